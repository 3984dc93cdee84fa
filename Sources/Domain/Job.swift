import Store

/// A unit of queued work, as claimed by a worker.
public struct Job: Equatable, Sendable {
    public enum State: String, Sendable { case queued, running, done, failed, cancelled }

    public var id: Int64
    public var accountID: Int64?
    public var kind: String
    public var payload: String
    /// What the job works on (a file's public id); cancelling matches it.
    public var subjectID: String?
    /// The batch and the parent job it belongs to (the jobs dialect's).
    public var batchID: String?
    public var parentID: Int64?
    public var state: State
    public var attempts: Int64
    public var maxAttempts: Int64
    public var runAt: Int64
    /// The claim's fence: only the holder of this token may heartbeat or finish the job.
    public var leaseToken: String?
    public var leaseExpiresAt: Int64?
    public var lastError: String?

    init(row: Row) {
        id = row.int("id") ?? 0
        accountID = row.int("account_id")
        kind = row.string("kind") ?? ""
        payload = row.string("payload") ?? ""
        subjectID = row.string("subject_id")
        batchID = row.string("batch_id")
        parentID = row.int("parent_id")
        state = State(rawValue: row.string("state") ?? "") ?? .queued
        attempts = row.int("attempts") ?? 0
        maxAttempts = row.int("max_attempts") ?? 0
        runAt = row.int("run_at") ?? 0
        leaseToken = row.string("lease_token")
        leaseExpiresAt = row.int("lease_expires_at")
        lastError = row.string("last_error")
    }
}
