/// A failed outbound operation (mail delivery, URL fetch); `transient` ones are worth
/// retrying (connection trouble, 4xx mail replies, 5xx origins), the others are final.
/// `description` is the detail for the log (it may quote curl, the resolver or a local path);
/// `reason` is what a caller may show.
public struct OutboundError: Error, CustomStringConvertible, Sendable {
    public enum Reason: Equatable, Sendable {
        /// Not an http(s) URL with a host and a valid port.
        case invalidURL
        /// The host resolves to (or the connection went to) an address the policy refuses.
        case blockedAddress
        /// The host name does not resolve.
        case unresolvable
        /// Connecting, TLS, sending or receiving failed.
        case network
        /// The time limit ran out.
        case timeout
        /// The body is larger than the size limit.
        case tooLarge
        case tooManyRedirects
        /// The origin answered a status other than 2xx or a followed redirect.
        case httpStatus(Int)
        /// A local file could not be written.
        case localWrite
        /// The caller asked to stop (a job that lost its lease).
        case stopped
        case other
    }

    public let description: String
    public let transient: Bool
    public let reason: Reason

    public init(_ description: String, transient: Bool, reason: Reason = .other) {
        self.description = description
        self.transient = transient
        self.reason = reason
    }
}
