/// Why an attempt of a job failed, and how to go on: `transient` (another attempt may help:
/// it runs again after a backoff, until its attempts are used up) or `permanent` (fail now).
/// The retry signal of every handler; errors of the layers below (Outbound's, with their
/// own reasons) are mapped to it by the handler that called them.
public struct JobError: Error, CustomStringConvertible, Sendable {
    public enum Retry: Equatable, Sendable { case transient, permanent }

    public let retry: Retry
    /// For the log and the job row only (it may quote a tool, a library or a path), never a reply.
    public let detail: String
    /// What the job's subject is to show (a file's `MediaFileError`); nil when the kind's
    /// handler has nothing more specific than its own default.
    public let reason: (any Error & Sendable)?

    public var description: String { detail }

    public init(_ retry: Retry, _ detail: String, reason: (any Error & Sendable)? = nil) {
        self.retry = retry
        self.detail = detail
        self.reason = reason
    }

    public static func transient(_ detail: String, reason: (any Error & Sendable)? = nil) -> JobError {
        JobError(.transient, detail, reason: reason)
    }

    public static func permanent(_ detail: String, reason: (any Error & Sendable)? = nil) -> JobError {
        JobError(.permanent, detail, reason: reason)
    }

    /// Any error a handler let through: a `JobError` as it is; anything else (a busy
    /// database, …) is transient.
    public init(_ error: any Error) {
        if let error = error as? JobError { self = error } else { self.init(.transient, "\(error)") }
    }

    /// The lease was lost (the job was cancelled, or another worker holds it now): stop.
    public static let leaseLost = JobError(.permanent, "the job lost its lease")
}
