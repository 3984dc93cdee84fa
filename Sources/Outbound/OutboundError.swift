/// A failed outbound operation (mail delivery, URL fetch); `transient` ones are worth
/// retrying (connection trouble, 4xx mail replies, 5xx origins), the others are final.
public struct OutboundError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let transient: Bool

    public init(_ description: String, transient: Bool) {
        self.description = description
        self.transient = transient
    }
}
