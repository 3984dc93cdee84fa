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

/// The small part of AWS Signature Version 4 that libcurl does not do: query signing
/// (presigned GET URLs). Requests themselves are signed by libcurl (`CURLOPT_AWS_SIGV4`).
/// `signature(…)` also takes headers, so the AWS worked examples (header-signed) check the core.
public struct SigV4: Sendable {
    public let accessKeyID: String
    public let secret: String
    public let region: String
    public let service: String

    public init(accessKeyID: String, secret: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.region = region
        self.service = service
    }

    /// The longest a presigned URL may live (S3's limit).
    public static let maxExpirySeconds: Int64 = 7 * 24 * 3600
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// `20130524T000000Z`.
    public static func amzDate(_ unixSeconds: Int64) -> String {
        let iso = DateTime.format(unixSeconds) // 2013-05-24T00:00:00+00:00
        return String(iso.prefix(19).filter { $0 != "-" && $0 != ":" }) + "Z"
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, `/` too when `path`.
    public static func encode(_ text: String, path: Bool = false) -> String {
        PercentEncoding.encode(text, keeping: path ? "-._~/" : "-._~")
    }

    func scope(_ date: String) -> String { "\(date.prefix(8))/\(region)/\(service)/aws4_request" }

    /// The hex signature of a request: `path` already encoded as it goes on the wire (and in
    /// the canonical request), `query` unencoded pairs, `headers` lowercase names with their
    /// values (all signed), `payloadHash` hex SHA-256 or `UNSIGNED-PAYLOAD`.
    public func signature(method: String, path: String, query: [(String, String)], headers: [(String, String)],
                          payloadHash: String, amzDate: String) -> String {
        let encodedQuery: [(name: String, value: String)] = query.map { (SigV4.encode($0.0), SigV4.encode($0.1)) }
        let sortedQuery = encodedQuery.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sortedQuery.map { $0.name + "=" + $0.value }.joined(separator: "&")
        let sortedHeaders = headers.map { ($0.0.lowercased(), Whitespace.trim($0.1, newlines: false)) }.sorted { $0.0 < $1.0 }
        let canonicalHeaders = sortedHeaders.map { "\($0.0):\($0.1)\n" }.joined()
        let signedHeaders = sortedHeaders.map(\.0).joined(separator: ";")
        let canonicalRequest = [method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope(amzDate), Digest.hex(Digest.sha256(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = Array("AWS4\(secret)".utf8)
        for part in [String(amzDate.prefix(8)), region, service, "aws4_request"] {
            key = Digest.hmacSHA256(key: key, message: Array(part.utf8))
        }
        return Digest.hex(Digest.hmacSHA256(key: key, message: Array(stringToSign.utf8)))
    }

    /// A presigned GET: `base` is scheme://host[:port], `path` the encoded object path, `host`
    /// the Host header's value. Query order is the one botocore writes (the given parameters,
    /// then the X-Amz ones, the signature last).
    public func presign(method: String = "GET", base: String, host: String, path: String, parameters: [(String, String)],
                        expires: Int64, now: Int64) -> String {
        let date = SigV4.amzDate(now)
        let auth: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(accessKeyID)/\(scope(date))"),
            ("X-Amz-Date", date),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let query = parameters + auth
        let signature = signature(method: method, path: path, query: query, headers: [("host", host)],
                                  payloadHash: SigV4.unsignedPayload, amzDate: date)
        let encoded = (query + [("X-Amz-Signature", signature)]).map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }
        return base + path + "?" + encoded.joined(separator: "&")
    }
}
