import Outbound

/// A bucket operation that failed, saying what the provider answered (its status and error
/// code, which are the user's own bucket's words, safe to show) or why it was never asked.
public struct BucketError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Code: String, Sendable {
        /// The provider refused the credentials or the signature (403).
        case wrongCredentials = "wrong_credentials"
        /// The bucket (or container) does not exist (404 NoSuchBucket / ContainerNotFound).
        case noSuchBucket = "no_such_bucket"
        /// The bucket lives in another region (301 PermanentRedirect, 400 AuthorizationHeaderMalformed).
        case wrongRegion = "wrong_region"
        /// The endpoint is not a public address (the SSRF rules), or not a valid URL.
        case refusedEndpoint = "refused_endpoint"
        /// No answer: the host does not resolve, the connection failed, the time ran out.
        case unreachable
        /// Any other answer of the provider (5xx, throttling, an unexpected status).
        case provider = "provider_error"
        /// The object's size or ETag after the upload is not what was sent.
        case verificationFailed = "verification_failed"
        /// The local file cannot be read.
        case localFile = "local_file"
        /// The caller asked to stop (a job that lost its lease).
        case stopped
        /// A bad argument (an expiry above 7 days, a malformed name).
        case invalid
    }

    public let code: Code
    public let message: String
    /// Worth another attempt later (network trouble, 5xx, throttling).
    public let transient: Bool

    public init(_ code: Code, _ message: String, transient: Bool = false) {
        self.code = code
        self.message = message
        self.transient = transient
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Outbound's failures (no provider answer) in bucket terms.
    init(_ error: OutboundError) {
        switch error.reason {
        case .invalidURL: self.init(.refusedEndpoint, "the endpoint is not a valid http(s) URL")
        case .blockedAddress: self.init(.refusedEndpoint, "the endpoint's host is on a non-public address, which is refused")
        case .unresolvable: self.init(.unreachable, "the endpoint's host name does not resolve", transient: error.transient)
        case .stopped: self.init(.stopped, "the transfer was stopped", transient: true)
        case .localWrite: self.init(.localFile, error.description, transient: true)
        case .timeout: self.init(.unreachable, "the endpoint did not answer in time", transient: true)
        default: self.init(.unreachable, "the endpoint could not be reached (\(error.description))", transient: true)
        }
    }

    /// Runs `body`, turning Outbound's errors into bucket errors.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as OutboundError { throw BucketError(error) }
    }
}
