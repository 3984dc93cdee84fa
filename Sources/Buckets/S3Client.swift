import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import HTTPCore
import Outbound

/// An object stored by an upload, as verified afterwards.
public struct StoredObject: Equatable, Sendable {
    public let key: String
    public let size: Int64
    /// As the provider reports it, without quotes; nil when it sends none.
    public let etag: String?

    public init(key: String, size: Int64, etag: String?) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// What a bucket store does for the service: upload a finished file (verified), look at,
/// delete, check credentials (`probe`), hand out a time-limited download link.
public protocol BucketClient: Sendable {
    func put(localPath: String, key: String, contentType: String, shouldStop: @escaping () -> Bool) throws -> StoredObject
    func head(key: String) throws -> StoredObject?
    func delete(key: String) throws
    func probe(prefix: String) throws
    func presignedGET(key: String, filename: String, contentType: String, expires: Int64, now: Int64) throws -> String
}

/// An S3-compatible bucket (AWS, R2, MinIO, Wasabi; GCS and OSS through their presets).
/// Every request is signed by libcurl (`CURLOPT_AWS_SIGV4`, "aws:amz:REGION:s3") and goes
/// through the address policy (checked, pinned, connect-time restricted); presigned GET URLs
/// come from the small query signer `SigV4`. Uploads never use chunked transfer encoding nor
/// aws-chunked payloads (each request carries its Content-Length), which OSS requires.
public struct S3Client: BucketClient {
    public let endpoint: String
    public let region: String
    public let bucket: String
    public let accessKeyID: String
    let secret: String
    public let pathStyle: Bool
    public let policy: AddressPolicy
    /// Files of at least this size go up in a multipart upload.
    public var multipartThreshold: Int64 = 16 << 20
    /// Size of each part but the last (at least 5 MiB; grown when the file would need more than 10,000 parts).
    public var partSize: Int64 = 8 << 20
    /// Compare the final ETag with the MD5s sent (AWS and moto give MD5 ETags; other providers
    /// may not, and are checked by size and by each part's Content-MD5 alone).
    public var verifiesETag = true
    public var timeoutSeconds = 600

    static let minPartSize: Int64 = 5 << 20
    static let maxParts: Int64 = 10_000

    public init(endpoint: String, region: String, bucket: String, accessKeyID: String, secret: String, pathStyle: Bool,
                policy: AddressPolicy) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.bucket = bucket
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.pathStyle = pathStyle
        self.policy = policy
    }

    /// AWS's own endpoint for a region.
    public static func awsEndpoint(region: String) -> String { "https://s3.\(region).amazonaws.com" }

    /// Google Cloud Storage through its S3-compatible XML API with HMAC interoperability keys.
    /// The credential scope's region defaults to `auto`, which Google's V4-signing pages are
    /// understood to accept for any location; that was not verified against Google from here (no
    /// network), so it stays configurable (`region`).
    public static func gcs(bucket: String, accessKeyID: String, secret: String, region: String = "auto",
                           endpoint: String = "https://storage.googleapis.com", policy: AddressPolicy) -> S3Client {
        var client = S3Client(endpoint: endpoint, region: region, bucket: bucket, accessKeyID: accessKeyID, secret: secret,
                              pathStyle: true, policy: policy)
        client.verifiesETag = false
        return client
    }

    /// Alibaba OSS through its S3-compatible endpoint: the bucket in the host name (path style is refused there).
    public static func oss(bucket: String, region: String, accessKeyID: String, secret: String, endpoint: String? = nil,
                           policy: AddressPolicy) -> S3Client {
        var client = S3Client(endpoint: endpoint ?? "https://s3.oss-\(region).aliyuncs.com", region: region, bucket: bucket,
                              accessKeyID: accessKeyID, secret: secret, pathStyle: false, policy: policy)
        client.verifiesETag = false
        return client
    }

    var http: BucketHTTP { BucketHTTP(policy: policy, timeoutSeconds: timeoutSeconds) }
    var signing: BucketHTTP.AWSSigning { .init(region: region, accessKeyID: accessKeyID, secret: secret) }

    /// scheme://host[:port] of requests, and the Host header's value.
    public func origin() throws -> (base: String, host: String) {
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.percentEncodedHost, !host.isEmpty,
              components.path.isEmpty || components.path == "/", components.query == nil, components.user == nil else {
            throw BucketError(.refusedEndpoint, "the endpoint must be http(s)://host[:port] with no path")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = components.port.flatMap { $0 == defaultPort ? nil : $0 }
        let name = pathStyle ? host : "\(bucket).\(host)"
        let authority = name + (port.map { ":\($0)" } ?? "")
        return ("\(scheme)://\(authority)", authority)
    }

    /// The encoded path of an object, or of the bucket itself for an empty key.
    func path(_ key: String) -> String {
        let object = SigV4.encode(key, path: true)
        if key.isEmpty { return pathStyle ? "/\(SigV4.encode(bucket))" : "/" }
        return pathStyle ? "/\(SigV4.encode(bucket))/\(object)" : "/\(object)"
    }

    func url(_ key: String, query: String = "") throws -> String {
        try origin().base + path(key) + (query.isEmpty ? "" : "?" + query)
    }

    func send(_ method: String, _ key: String, query: String = "", headers: [(String, String)] = [],
              body: BucketHTTP.Body = .none, readHeaders: [String] = [],
              shouldStop: @escaping () -> Bool = { false }) throws -> BucketHTTP.Reply {
        let target = try url(key, query: query)
        // S3 wants the payload hash header on every request; libcurl 7.88 signs with the value
        // given here and sends none of its own.
        let payloadHash: String = switch body {
        case .none: Digest.hex(Digest.sha256([UInt8]()))
        case .memory(let bytes): Digest.hex(Digest.sha256(bytes))
        case .file: SigV4.unsignedPayload
        }
        return try BucketError.mapping {
            try http.send(method, target, headers: headers + [("x-amz-content-sha256", payloadHash)], body: body, signing: signing,
                          readHeaders: readHeaders,
                          shouldStop: shouldStop)
        }
    }

    // MARK: - Objects

    public func put(localPath: String, key: String, contentType: String,
                    shouldStop: @escaping () -> Bool = { false }) throws -> StoredObject {
        try UploadFile.with(localPath) { fd, size in
            let expectedETag = size < multipartThreshold
                ? try putSingle(fd: fd, size: size, key: key, contentType: contentType, shouldStop: shouldStop)
                : try putMultipart(fd: fd, size: size, key: key, contentType: contentType, shouldStop: shouldStop)
            let stored = try UploadFile.verified(try head(key: key), size: size, noun: "object")
            if verifiesETag, let etag = stored.etag, etag != expectedETag {
                throw BucketError(.verificationFailed, "the object's ETag \(etag) is not the expected \(expectedETag)", transient: true)
            }
            return stored
        }
    }

    /// One PUT with Content-MD5 (the provider refuses bytes that do not match); the expected ETag.
    func putSingle(fd: Int32, size: Int64, key: String, contentType: String, shouldStop: @escaping () -> Bool) throws -> String {
        let md5 = try UploadFile.md5(fd, offset: 0, length: size)
        let reply = try send("PUT", key, headers: uploadHeaders(md5: md5) + [("Content-Type", contentType)],
                             body: .file(fd: fd, offset: 0, length: size), readHeaders: ["ETag"], shouldStop: shouldStop)
        guard reply.status == 200 else { throw S3Client.failure(reply, doing: "the upload") }
        return Digest.hex(md5)
    }

    /// A body read from a file is sent UNSIGNED-PAYLOAD (libcurl cannot hash what it reads from
    /// a callback, and hashing first would read the file twice): integrity comes from the
    /// Content-MD5 it carries, which is signed and which the provider checks.
    func uploadHeaders(md5: [UInt8]) -> [(String, String)] {
        [("Content-MD5", Base64.encode(md5))]
    }

    /// Create, parts (each with Content-MD5, its ETag checked), complete; abort on any failure
    /// so no parts linger. The expected multipart ETag (MD5 of the parts' MD5s, "-N").
    func putMultipart(fd: Int32, size: Int64, key: String, contentType: String, shouldStop: @escaping () -> Bool) throws -> String {
        try abortUnfinished(key: key)
        let created = try send("POST", key, query: "uploads=", headers: [("Content-Type", contentType)], body: .memory([]))
        guard created.status == 200 else { throw S3Client.failure(created, doing: "starting the multipart upload") }
        guard let uploadID = S3Client.element("UploadId", in: created.body), !uploadID.isEmpty else {
            throw BucketError(.provider, "the provider started a multipart upload without an upload id", transient: true)
        }
        let uploadQuery = "uploadId=" + SigV4.encode(uploadID)
        do {
            let part = max(partSize, S3Client.minPartSize, (size + S3Client.maxParts - 1) / S3Client.maxParts)
            var md5s: [[UInt8]] = []
            var offset: Int64 = 0
            while offset < size {
                let length = min(part, size - offset)
                let number = md5s.count + 1
                let md5 = try UploadFile.md5(fd, offset: offset, length: length)
                let reply = try send("PUT", key, query: "partNumber=\(number)&" + uploadQuery, headers: uploadHeaders(md5: md5),
                                     body: .file(fd: fd, offset: offset, length: length), readHeaders: ["ETag"], shouldStop: shouldStop)
                guard reply.status == 200 else { throw S3Client.failure(reply, doing: "uploading part \(number)") }
                let etag = S3Client.unquoted(reply.headers["etag"])
                if verifiesETag, etag != Digest.hex(md5) {
                    throw BucketError(.verificationFailed, "part \(number) came back with ETag \(etag ?? "none")", transient: true)
                }
                md5s.append(md5)
                offset += length
            }
            var xml = "<CompleteMultipartUpload>"
            for (index, md5) in md5s.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\"\(Digest.hex(md5))\"</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let done = try send("POST", key, query: uploadQuery, headers: [("Content-Type", "application/xml")],
                                body: .memory(Array(xml.utf8)))
            // S3 may answer 200 and still put an <Error> in the body.
            guard done.status == 200, (try? XMLReader.parse(done.body))?.name != "Error" else {
                throw S3Client.failure(done, doing: "completing the multipart upload")
            }
            return Digest.hex(Digest.md5(md5s.flatMap { $0 })) + "-\(md5s.count)"
        } catch {
            _ = try? send("DELETE", key, query: uploadQuery)
            throw error
        }
    }

    /// Aborts multipart uploads of exactly `key` that an earlier attempt left (a worker killed
    /// mid-upload cannot abort its own): their parts stop costing storage, and the new upload is the
    /// only one. Best effort: a provider that cannot list them leaves them to its own lifecycle rules.
    func abortUnfinished(key: String) throws {
        let listing = try send("GET", "", query: "prefix=\(SigV4.encode(key))&uploads=")
        guard listing.status == 200, let root = try? XMLReader.parse(listing.body) else { return }
        for upload in root.children where upload.name == "Upload" {
            let fields = Dictionary(upload.children.map { ($0.name, $0.text) }, uniquingKeysWith: { a, _ in a })
            guard fields["Key"] == key, let id = fields["UploadId"], !id.isEmpty else { continue }
            _ = try? send("DELETE", key, query: "uploadId=" + SigV4.encode(id))
        }
    }

    /// Size and ETag of an object; nil when there is none.
    public func head(key: String) throws -> StoredObject? { try look(key: key)?.object }

    /// Size, ETag and Last-Modified (Unix seconds; 0 when the provider sends none) of an object; nil when there is none.
    public func look(key: String) throws -> (object: StoredObject, modified: Int64)? {
        let reply = try send("HEAD", key, readHeaders: ["Content-Length", "ETag", "Last-Modified"])
        if reply.status == 404 { return nil }
        guard reply.status == 200, let length = reply.headers["content-length"].flatMap({ Int64($0) }) else {
            throw S3Client.failure(reply, doing: "looking at the object")
        }
        return (StoredObject(key: key, size: length, etag: S3Client.unquoted(reply.headers["etag"])),
                reply.headers["last-modified"].flatMap(DateTime.parseHTTPDate) ?? 0)
    }

    /// Removes an object (absent already: fine, as S3 answers).
    public func delete(key: String) throws {
        let reply = try send("DELETE", key)
        guard reply.status == 204 || reply.status == 200 || reply.status == 404 else {
            throw S3Client.failure(reply, doing: "deleting the object")
        }
    }

    /// Writes a small object and deletes it: the credentials, the bucket and the region work.
    public func probe(prefix: String = "") throws {
        let key = prefix + ".fetchgate-probe-" + Digest.randomToken(length: 12)
        let bytes = Array("fetchgate bucket check\n".utf8)
        let written = try send("PUT", key, headers: [("Content-Type", "text/plain"), ("Content-MD5", Base64.encode(Digest.md5(bytes)))],
                               body: .memory(bytes))
        guard written.status == 200 else { throw S3Client.failure(written, doing: "writing a test object") }
        let deleted = try send("DELETE", key)
        guard deleted.status == 204 || deleted.status == 200 else { throw S3Client.failure(deleted, doing: "deleting the test object") }
    }

    /// A presigned GET (at most 7 days) whose download carries `filename` and `contentType`.
    public func presignedGET(key: String, filename: String, contentType: String, expires: Int64,
                             now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> String {
        guard (1...SigV4.maxExpirySeconds).contains(expires) else {
            throw BucketError(.invalid, "a presigned URL lives between 1 second and 7 days")
        }
        let (base, host) = try origin()
        let signer = SigV4(accessKeyID: accessKeyID, secret: secret, region: region)
        return signer.presign(base: base, host: host, path: path(key),
                              parameters: [("response-content-disposition", ContentDisposition.attachment(filename: filename)),
                                           ("response-content-type", contentType)],
                              expires: expires, now: now)
    }

    // MARK: - Replies

    static func unquoted(_ etag: String?) -> String? {
        guard var etag else { return nil }
        if etag.hasPrefix("W/") { etag.removeFirst(2) }
        return etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }

    /// The text of the first element named `name` anywhere in an XML reply.
    static func element(_ name: String, in body: [UInt8]) -> String? {
        guard let root = try? XMLReader.parse(body) else { return nil }
        func find(_ node: XMLNode) -> String? {
            if node.name == name { return node.text }
            for child in node.children { if let found = find(child) { return found } }
            return nil
        }
        return find(root)
    }

    /// What the provider answered, in bucket terms: 403 credentials, 404 NoSuchBucket,
    /// 301/AuthorizationHeaderMalformed region, 5xx/429 transient, with its own code and message.
    static func failure(_ reply: BucketHTTP.Reply, doing what: String) -> BucketError {
        let code = element("Code", in: reply.body) ?? ""
        let message = String((element("Message", in: reply.body) ?? "").prefix(200))
        let said = "HTTP \(reply.status)" + (code.isEmpty ? "" : " \(code)") + (message.isEmpty ? "" : ": \(message)")
        switch (reply.status, code) {
        case (_, "NoSuchBucket"), (404, ""):
            return BucketError(.noSuchBucket, "\(what): the bucket does not exist (the provider answered \(said))")
        case (301, _), (307, _), (_, "PermanentRedirect"), (_, "AuthorizationHeaderMalformed"), (_, "IllegalLocationConstraintException"):
            let region = element("Region", in: reply.body) ?? element("Endpoint", in: reply.body)
            return BucketError(.wrongRegion, "\(what): the bucket is in another region\(region.map { " (\($0))" } ?? "") (the provider answered \(said))")
        case (403, _), (401, _), (_, "InvalidAccessKeyId"), (_, "SignatureDoesNotMatch"):
            return BucketError(.wrongCredentials, "\(what): the provider refused the credentials (\(said))")
        case (let status, _) where status >= 500 || status == 429 || status == 408 || code == "SlowDown":
            return BucketError(.provider, "\(what): the provider answered \(said)", transient: true)
        default:
            return BucketError(.provider, "\(what): the provider answered \(said)")
        }
    }
}
