import Crypto
import Formats
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

/// An Azure Blob Storage container: Put Blob below the threshold, Put Block + Put Block List
/// above (blocks read from file ranges at flat memory, each with Content-MD5), Delete, Get
/// Blob Properties, a probe, and read links (a service SAS with `rscd`/`rsct`). Requests are
/// signed with the account key (SharedKey) or carry the user's SAS token, and go through the
/// address policy like every outbound request.
public struct AzureBlobClient: BucketClient {
    public enum Credential: Sendable, Equatable {
        /// The storage account key (base64, as the portal shows it).
        case sharedKey(String)
        /// A SAS token the user made (account or container SAS), without the leading `?`.
        case sas(String)
    }

    public let account: String
    public let container: String
    public let endpoint: String
    let credential: Credential
    public let policy: AddressPolicy
    public var multipartThreshold: Int64 = 16 << 20
    /// Size of each block but the last (grown when the file would need more than 50,000 blocks).
    public var blockSize: Int64 = 8 << 20
    public var timeoutSeconds = 600

    /// The service version every request and SAS names.
    public static let apiVersion = "2025-01-05"
    static let maxBlocks: Int64 = 50_000

    public init(account: String, container: String, credential: Credential, endpoint: String? = nil, policy: AddressPolicy) {
        self.account = account
        self.container = container
        let given = endpoint ?? "https://\(account).blob.core.windows.net"
        self.endpoint = given.hasSuffix("/") ? String(given.dropLast()) : given
        self.credential = credential
        self.policy = policy
    }

    /// The encoded path of a blob: /container/blob.
    func path(_ blob: String) -> String { "/\(SigV4.encode(container))/\(SigV4.encode(blob, path: true))" }

    // MARK: - Signing

    /// The SharedKey string to sign (service versions 2015-02-21 and later): the verb, the
    /// standard headers in their fixed order (Content-Length empty when zero), the x-ms-*
    /// headers sorted, then /account/path and the query parameters sorted by name.
    static func stringToSign(method: String, headers: [(String, String)], account: String, path: String,
                             query: [(String, String)]) -> String {
        func header(_ name: String) -> String {
            let value = headers.last { $0.0.lowercased() == name }?.1 ?? ""
            return name == "content-length" && value == "0" ? "" : value
        }
        let standard = ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
                        "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"].map(header)
        let msHeaders = headers.map { ($0.0.lowercased(), Whitespace.trim($0.1, newlines: false)) }
            .filter { $0.0.hasPrefix("x-ms-") }.sorted { $0.0 < $1.0 }.map { "\($0.0):\($0.1)\n" }.joined()
        let grouped = Dictionary(grouping: query, by: { $0.0.lowercased() })
        let resourceQuery = grouped.keys.sorted().map { name in
            "\n\(name):" + grouped[name]!.map(\.1).sorted().joined(separator: ",")
        }.joined()
        return ([method] + standard).joined(separator: "\n") + "\n" + msHeaders + "/\(account)\(path)" + resourceQuery
    }

    static func sharedKeySignature(key: String, _ stringToSign: String) throws -> String {
        guard let secret = Base64.decode(key) else { throw BucketError(.wrongCredentials, "the account key is not base64") }
        return Base64.encode(Digest.hmacSHA256(key: secret, message: Array(stringToSign.utf8)))
    }

    /// `2026-12-07T00:00:00Z`.
    static func sasTime(_ unixSeconds: Int64) -> String { String(DateTime.format(unixSeconds).prefix(19)) + "Z" }

    /// A service SAS for reading one blob (sr=b, sp=r, HTTPS only), its download named by `rscd`
    /// and typed by `rsct`: the query string, parameters in the order the Azure SDK writes them.
    static func readSAS(account: String, key: String, container: String, blob: String, expiry: Int64,
                        disposition: String, contentType: String, version: String = apiVersion) throws -> String {
        let se = sasTime(expiry)
        let fields = ["r", "", se, "/blob/\(account)/\(container)/\(blob)", "", "", "https", version, "b", "", "", "",
                      disposition, "", "", contentType]
        let signature = try sharedKeySignature(key: key, fields.joined(separator: "\n"))
        let query: [(String, String)] = [("se", se), ("sp", "r"), ("spr", "https"), ("sv", version), ("sr", "b"),
                                         ("rscd", disposition), ("rsct", contentType), ("sig", signature)]
        return query.map { "\($0.0)=\(PercentEncoding.encode($0.1, keeping: "-._~/"))" }.joined(separator: "&")
    }

    // MARK: - Requests

    func send(_ method: String, _ blob: String, query: [(String, String)] = [], headers: [(String, String)] = [],
              body: BucketHTTP.Body = .none, readHeaders: [String] = [], now: Int64 = Int64(Date().timeIntervalSince1970),
              shouldStop: @escaping () -> Bool = { false }) throws -> BucketHTTP.Reply {
        let length: Int64 = switch body {
        case .none: 0
        case .memory(let bytes): Int64(bytes.count)
        case .file(_, _, let length): length
        }
        var all = headers + [("x-ms-date", DateTime.httpDate(now)), ("x-ms-version", AzureBlobClient.apiVersion)]
        let encodedPath = path(blob)
        var queryText = query.map { "\($0.0)=\(PercentEncoding.component($0.1))" }.joined(separator: "&")
        switch credential {
        case .sharedKey(let key):
            let signed = all + (length > 0 ? [("Content-Length", String(length))] : [])
            let text = AzureBlobClient.stringToSign(method: method, headers: signed, account: account, path: encodedPath, query: query)
            all.append(("Authorization", "SharedKey \(account):\(try AzureBlobClient.sharedKeySignature(key: key, text))"))
        case .sas(let token):
            let sas = token.hasPrefix("?") ? String(token.dropFirst()) : token
            queryText += (queryText.isEmpty ? "" : "&") + sas
        }
        let url = endpoint + encodedPath + (queryText.isEmpty ? "" : "?" + queryText)
        return try BucketError.mapping {
            try BucketHTTP(policy: policy, timeoutSeconds: timeoutSeconds).send(method, url, headers: all, body: body,
                                                                                readHeaders: readHeaders + ["x-ms-error-code"],
                                                                                shouldStop: shouldStop)
        }
    }

    public func put(localPath: String, key: String, contentType: String,
                    shouldStop: @escaping () -> Bool = { false }) throws -> StoredObject {
        try UploadFile.with(localPath) { fd, size in
            if size < multipartThreshold {
                let md5 = try UploadFile.md5(fd, offset: 0, length: size)
                let reply = try send("PUT", key, headers: [("Content-MD5", Base64.encode(md5)), ("Content-Type", contentType),
                                                          ("x-ms-blob-type", "BlockBlob")],
                                     body: .file(fd: fd, offset: 0, length: size), shouldStop: shouldStop)
                guard reply.status == 201 else { throw AzureBlobClient.failure(reply, doing: "the upload") }
            } else {
                try putBlocks(fd: fd, size: size, key: key, contentType: contentType, shouldStop: shouldStop)
            }
            return try UploadFile.verified(try head(key: key), size: size, noun: "blob")
        }
    }

    /// Put Block per range (each with Content-MD5), then Put Block List commits them in order.
    func putBlocks(fd: Int32, size: Int64, key: String, contentType: String, shouldStop: @escaping () -> Bool) throws {
        let block = max(blockSize, (size + AzureBlobClient.maxBlocks - 1) / AzureBlobClient.maxBlocks)
        var ids: [String] = []
        var offset: Int64 = 0
        while offset < size {
            let length = min(block, size - offset)
            let id = AzureBlobClient.blockID(ids.count)
            let md5 = try UploadFile.md5(fd, offset: offset, length: length)
            let reply = try send("PUT", key, query: [("comp", "block"), ("blockid", id)], headers: [("Content-MD5", Base64.encode(md5))],
                                 body: .file(fd: fd, offset: offset, length: length), shouldStop: shouldStop)
            guard reply.status == 201 else { throw AzureBlobClient.failure(reply, doing: "uploading block \(ids.count + 1)") }
            ids.append(id)
            offset += length
        }
        // Uncommitted blocks are dropped by the service after a week; nothing to abort.
        let list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>" + ids.map { "<Latest>\($0)</Latest>" }.joined()
            + "</BlockList>"
        let reply = try send("PUT", key, query: [("comp", "blocklist")],
                             headers: [("Content-Type", "application/xml"), ("x-ms-blob-content-type", contentType)],
                             body: .memory(Array(list.utf8)))
        guard reply.status == 201 else { throw AzureBlobClient.failure(reply, doing: "committing the block list") }
    }

    /// Block ids: base64 of a fixed-length name, as the service requires one length per blob.
    static func blockID(_ index: Int) -> String {
        let digits = String(index)
        return Base64.encode(Array(("block-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8))
    }

    public func head(key: String) throws -> StoredObject? {
        let reply = try send("HEAD", key, readHeaders: ["Content-Length", "ETag"])
        if reply.status == 404 && reply.headers["x-ms-error-code"] != "ContainerNotFound" { return nil }
        guard reply.status == 200, let length = reply.headers["content-length"].flatMap({ Int64($0) }) else {
            throw AzureBlobClient.failure(reply, doing: "looking at the blob")
        }
        return StoredObject(key: key, size: length, etag: S3Client.unquoted(reply.headers["etag"]))
    }

    public func delete(key: String) throws {
        let reply = try send("DELETE", key)
        guard reply.status == 202 || (reply.status == 404 && reply.headers["x-ms-error-code"] == "BlobNotFound") else {
            throw AzureBlobClient.failure(reply, doing: "deleting the blob")
        }
    }

    public func probe(prefix: String = "") throws {
        let key = prefix + ".fetchgate-probe-" + Digest.randomToken(length: 12)
        let bytes = Array("fetchgate bucket check\n".utf8)
        let written = try send("PUT", key, headers: [("Content-Type", "text/plain"), ("x-ms-blob-type", "BlockBlob")],
                               body: .memory(bytes))
        guard written.status == 201 else { throw AzureBlobClient.failure(written, doing: "writing a test blob") }
        let deleted = try send("DELETE", key)
        guard deleted.status == 202 else { throw AzureBlobClient.failure(deleted, doing: "deleting the test blob") }
    }

    /// A read link: with the account key, a service SAS (at most 7 days) naming the download by
    /// `rscd`; with the user's SAS, the blob's URL with that SAS as it is (no `rscd`: a SAS
    /// cannot be extended without the key).
    public func presignedGET(key: String, filename: String, contentType: String, expires: Int64,
                             now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> String {
        guard (1...SigV4.maxExpirySeconds).contains(expires) else {
            throw BucketError(.invalid, "a read link lives between 1 second and 7 days")
        }
        let url = endpoint + path(key)
        switch credential {
        case .sharedKey(let accountKey):
            return url + "?" + (try AzureBlobClient.readSAS(account: account, key: accountKey, container: container, blob: key,
                                                            expiry: now + expires,
                                                            disposition: ContentDisposition.attachment(filename: filename),
                                                            contentType: contentType))
        case .sas(let token):
            return url + "?" + (token.hasPrefix("?") ? String(token.dropFirst()) : token)
        }
    }

    /// What the service answered: 403 AuthenticationFailed, 404 ContainerNotFound, 5xx transient.
    static func failure(_ reply: BucketHTTP.Reply, doing what: String) -> BucketError {
        let code = reply.headers["x-ms-error-code"] ?? S3Client.element("Code", in: reply.body) ?? ""
        let said = "HTTP \(reply.status)" + (code.isEmpty ? "" : " \(code)")
        switch (reply.status, code) {
        case (_, "ContainerNotFound"), (404, ""):
            return BucketError(.noSuchBucket, "\(what): the container does not exist (the service answered \(said))")
        case (403, _), (401, _):
            return BucketError(.wrongCredentials, "\(what): the service refused the credentials (\(said))")
        case (let status, _) where status >= 500 || status == 429 || status == 408:
            return BucketError(.provider, "\(what): the service answered \(said)", transient: true)
        default:
            return BucketError(.provider, "\(what): the service answered \(said)")
        }
    }
}
