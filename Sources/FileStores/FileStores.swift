import Buckets
import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Outbound

/// Opens the file store a URL names, so that no dialect names one: `file:DIR` (local disk) and
/// `s3://bucket/prefix?endpoint=http://host:port&region=us-east-1` (an S3-compatible bucket of the
/// operator's; path-style when an endpoint is given, else AWS's virtual-hosted endpoint of the region).
/// Bucket credentials never come on a command line: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
/// in the environment, or a credentials file (see `S3Location.credentials`).
public enum FileStores {
    /// The store at `url`, ready for use (a local directory is made if missing).
    /// `signingSecret` signs the links a local store hands out, in the processes that hand out
    /// links; `credentialsFile` holds a bucket's keys; `scratch` is where a bucket store puts the
    /// local copies `withLocalFile` makes (default: the system's temp directory).
    public static func open(url: String, signingSecret: String? = nil, credentialsFile: String? = nil,
                            scratch: ScratchSpace? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any FileStore {
        if url.hasPrefix(S3Location.scheme) {
            let location = try S3Location.parsed(url)
            let keys = try S3Location.credentials(file: credentialsFile, environment: environment)
            return S3FileStore(client: try location.client(accessKeyID: keys.accessKeyID, secret: keys.secret), prefix: location.prefix,
                               scratch: scratch ?? ScratchSpace(dataDirectory: FileManager.default.temporaryDirectory.path + "/fetchgate"))
        }
        guard url.hasPrefix("file:"), url.count > "file:".count else {
            throw StorageError(description: "unsupported file store URL '\(url)': expected file:DIR or s3://BUCKET/PREFIX?endpoint=…")
        }
        let store = LocalDiskStore(directory: String(url.dropFirst("file:".count)), signingSecret: signingSecret)
        try store.prepare()
        return store
    }

    /// The local store of a data directory: its `files/`, which nginx serves.
    public static func localURL(dataDirectory: String) -> String { "file:" + dataDirectory + "/files" }

    /// A bucket's own reply headers (AWS's and moto's; any other a provider adds would pass) that are not passed on to the client: nginx
    /// can hide headers by exact name only; we set no user metadata (`x-amz-meta-*`).
    static let providerHeaders = [
        "x-amz-request-id", "x-amz-id-2", "x-amzn-requestid", "x-amz-content-sha256", "x-amz-version-id",
        "x-amz-server-side-encryption", "x-amz-storage-class", "x-amz-expiration", "x-amz-restore", "x-amz-replication-status",
        "x-amz-mp-parts-count", "x-amz-tagging-count", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
        "x-amz-checksum-sha256", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "Access-Control-Allow-Origin", "Content-MD5",
    ]

    /// An https endpoint's certificate is checked (nginx checks none by default), against Debian's CA bundle.
    static let verifiedTLS = """
                    proxy_ssl_server_name on;
                    proxy_ssl_verify on;
                    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
        """

    /// The store's own nginx locations, to go in each server block: none for local disk (its
    /// `/_files/` and `/dl/` are in the template); for a bucket, `rangedLocation` and `wholeFileLocation`.
    public static func nginxLocations(url: String) throws -> String {
        try rangedLocation(url: url) + wholeFileLocation(url: url)
    }

    /// For a bucket, the internal `/_s3/` that fetches a presigned URL from the endpoint and streams
    /// it to the client (Range passed through, no buffering; the client's credentials, cookies and
    /// conditions, which the app judged, are not passed on; the reply's own Content-Disposition
    /// stands, and the bucket's ETag and error documents never reach the client).
    static func rangedLocation(url: String) throws -> String {
        guard url.hasPrefix(S3Location.scheme) else { return "" }
        return try proxyLocation(S3FileStore.internalLocation, url: url, extra: "")
    }

    /// For a bucket, the internal `/_s3whole/`: as `/_s3/`, for replies the app judged to send the
    /// whole file, so the client's Range (and If-Range) is not passed on: the bucket would answer a
    /// part, a 416 or, for a malformed one, an error where the app counted a whole download.
    static func wholeFileLocation(url: String) throws -> String {
        guard url.hasPrefix(S3Location.scheme) else { return "" }
        return try proxyLocation(S3FileStore.wholeLocation, url: url,
                                 extra: "proxy_set_header Range \"\";\n            proxy_set_header If-Range \"\";")
    }

    private static func proxyLocation(_ location: String, url: String, extra: String) throws -> String {
        // Signing needs no real keys: only the origin is wanted.
        let origin = try S3Location.parsed(url).client(accessKeyID: "-", secret: "-").origin()
        return """
                    # Stored files in the operator's bucket: the app names a presigned URL's path and query
                    # under /_s3/ (X-Accel-Redirect); nginx asks the endpoint and streams the reply.
                    location ^~ \(location)/ {
                        internal;
                        proxy_pass \(origin.base)/;
                        proxy_set_header Host "\(origin.host)";
                        proxy_method GET;
                        proxy_pass_request_body off;
                        proxy_set_header Content-Length "";
                        proxy_set_header Authorization "";
                        proxy_set_header Cookie "";
                        proxy_set_header If-Match "";
                        proxy_set_header If-None-Match "";
                        # The app judged the conditions (and answered the ones that send no byte).
                        proxy_set_header If-Modified-Since "";
                        proxy_set_header If-Unmodified-Since "";
                        \(extra)
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_buffering off;
                        # Unbuffered, each read from the endpoint is at most this much (with the default,
                        # one page, a 100 MiB download took two to three times as long as with 128k).
                        proxy_buffer_size 128k;
                        proxy_buffers 4 128k;
                        proxy_busy_buffers_size 256k;
                        proxy_intercept_errors on;
                        proxy_hide_header ETag;
                        proxy_hide_header Content-Disposition;
            \(FileStores.providerHeaders.map { "            proxy_hide_header \($0);" }.joined(separator: "\n"))
            \(origin.base.hasPrefix("https://") ? FileStores.verifiedTLS : "")
                        proxy_read_timeout 600s;
                    }

            """
    }
}

extension S3Location {
    /// The URL's location, its refusal as a `StorageError`.
    static func parsed(_ url: String) throws -> S3Location {
        do { return try S3Location(url: url) } catch let error as S3LocationError { throw StorageError(description: error.message) }
    }

    /// The bucket's client. The endpoint is the operator's, not a user's: its host may be on a
    /// private or loopback address (the address policy lets that one host through; any other is
    /// still refused).
    public func client(accessKeyID: String, secret: String) throws -> S3Client {
        let base = endpoint ?? S3Client.awsEndpoint(region: region)
        guard let host = URLComponents(string: base)?.host, !host.isEmpty else {
            throw StorageError(description: "bad storage URL: the endpoint must be http(s)://host[:port]")
        }
        let client = S3Client(endpoint: base, region: region, bucket: bucket, accessKeyID: accessKeyID, secret: secret,
                              pathStyle: endpoint != nil, policy: AddressPolicy(allowedPrivateHosts: [host]))
        do { _ = try client.origin() } catch { throw StorageError(description: "bad storage URL: \(error)") }
        return client
    }

    /// The bucket's keys: from `file` when given (readable by its owner alone; see
    /// `credentials(text:)`), else from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` in the environment.
    public static func credentials(file: String?, environment: [String: String]) throws -> (accessKeyID: String, secret: String) {
        do {
            guard let file else { return try credentials(environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) }
            var info = stat()
            guard stat(file, &info) == 0, let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw S3LocationError("cannot read the storage credentials file \(file)")
            }
            guard info.st_mode & 0o077 == 0 else {
                throw S3LocationError("the storage credentials file \(file) is readable by others: chmod 600 it")
            }
            return try credentials(text: text)
        } catch let error as S3LocationError {
            throw StorageError(description: error.message)
        }
    }
}
