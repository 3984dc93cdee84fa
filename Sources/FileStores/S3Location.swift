import Formats

/// What an `s3://` storage URL names: bucket, key prefix, endpoint and region; and the bucket
/// keys of a credentials file. Standard library and Formats only (Fuzz/FuzzStorageURL links it).
public struct S3Location: Equatable, Sendable {
    static let scheme = "s3://"

    public let bucket: String
    /// "" or ending in `/`.
    public let prefix: String
    /// nil: AWS's endpoint of the region, virtual-hosted style.
    public let endpoint: String?
    public let region: String

    /// `s3://bucket/prefix?endpoint=URL&region=R` (the endpoint percent-encoded or not; region
    /// default us-east-1). The prefix is segments of letters, digits, `.`, `_` and `-`, so keys
    /// under it never need escaping on the way through nginx.
    public init(url: String) throws {
        func refuse(_ why: String) -> S3LocationError {
            S3LocationError("bad storage URL: \(why) (expected s3://BUCKET/PREFIX?endpoint=URL&region=R)")
        }
        guard url.hasPrefix(S3Location.scheme) else { throw refuse("not s3://") }
        let rest = url.dropFirst(S3Location.scheme.count)
        let (location, query) = rest.firstIndex(of: "?").map { (rest[..<$0], rest[rest.index(after: $0)...]) } ?? (rest, "")
        let bucket = location.prefix { $0 != "/" }
        guard (3...63).contains(bucket.count),
              bucket.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }) else {
            throw refuse("the bucket name must be 3 to 63 of a-z, 0-9, '.' and '-'")
        }
        var prefix = String(location.dropFirst(bucket.count).drop { $0 == "/" })
        let segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
        guard prefix.unicodeScalars.allSatisfy({ S3Location.isKeyScalar($0) || $0 == "/" }),
              !segments.dropLast().contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), segments.last != ".", segments.last != ".." else {
            throw refuse("the prefix must be segments of letters, digits, '.', '_' and '-'")
        }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        var endpoint: String?
        var region = "us-east-1"
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = PercentEncoding.decode(parts.count > 1 ? parts[1] : "")
            switch parts[0] {
            case "endpoint":
                guard value.hasPrefix("http://") || value.hasPrefix("https://") else { throw refuse("the endpoint must be http(s)://host[:port]") }
                endpoint = value
            case "region":
                guard !value.isEmpty, value.unicodeScalars.allSatisfy({ S3Location.isKeyScalar($0) && $0 != "." && $0 != "_" }) else {
                    throw refuse("bad region")
                }
                region = value
            default: throw refuse("unknown parameter '\(parts[0])'")
            }
        }
        self.bucket = String(bucket)
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
    }

    /// ASCII letters, digits, `.`, `_`, `-`.
    static func isKeyScalar(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "_" || c == "-"
    }

    /// The keys of a credentials file: lines `key=…` and `secret=…` (or `AWS_ACCESS_KEY_ID=…` and
    /// `AWS_SECRET_ACCESS_KEY=…`), blank lines and `#` comments; any other line is refused.
    public static func credentials(text: String) throws -> (accessKeyID: String, secret: String) {
        var key: String?
        var secret: String?
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let equals = trimmed.firstIndex(of: "=") else { throw S3LocationError("the storage credentials file has a line without '='") }
            let name = trimmed[..<equals].filter { $0 != " " && $0 != "\t" }
            let value = String(trimmed[trimmed.index(after: equals)...].drop { $0 == " " || $0 == "\t" }).trimmingTrailingBlanks()
            switch name {
            case "key", "AWS_ACCESS_KEY_ID": key = value
            case "secret", "AWS_SECRET_ACCESS_KEY": secret = value
            default: throw S3LocationError("the storage credentials file has an unknown name '\(name)'")
            }
        }
        guard key != nil || secret != nil else { throw S3LocationError("the storage credentials file needs key= and secret= lines") }
        return try credentials(key, secret)
    }

    /// Both keys, non-empty.
    static func credentials(_ key: String?, _ secret: String?) throws -> (accessKeyID: String, secret: String) {
        guard let key, !key.isEmpty, let secret, !secret.isEmpty else {
            throw S3LocationError("an s3:// store needs both keys: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, "
                                  + "or key= and secret= in --storage-credentials-file")
        }
        return (key, secret)
    }
}

/// A storage URL or credentials file that cannot be used, in words.
public struct S3LocationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    fileprivate func trimmingTrailingBlanks() -> String {
        var text = self
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
