import Crypto
import Store

/// A durable work queue in the store. Jobs are leased with a token and an expiry,
/// heartbeated while they run, and finished only by the lease holder (fencing), so a
/// worker killed mid-job loses nothing: its lease expires and the job runs again.
public struct JobQueue {
    let db: any Database
    let clock: Clock

    public init(db: any Database, clock: Clock = .system) {
        self.db = db
        self.clock = clock
    }

    /// Adds a job of a kind with its typed payload (its subject taken from the payload);
    /// joins the caller's transaction if there is one.
    @discardableResult
    public func enqueue<Kind: JobKind>(_ kind: Kind.Type, _ payload: Kind.Payload, accountID: Int64? = nil, runAt: Int64? = nil,
                                       maxAttempts: Int64 = 8, batchID: String? = nil, parentID: Int64? = nil) throws -> Int64 {
        try enqueue(kind: Kind.name, payload: JobPayload.encode(payload), subjectID: Kind.subject(of: payload), accountID: accountID,
                    runAt: runAt, maxAttempts: maxAttempts, batchID: batchID, parentID: parentID)
    }

    /// Adds a job whose payload is already text; joins the caller's transaction if there is one.
    @discardableResult
    public func enqueue(kind: String, payload: String, subjectID: String? = nil, accountID: Int64? = nil, runAt: Int64? = nil,
                        maxAttempts: Int64 = 8, batchID: String? = nil, parentID: Int64? = nil) throws -> Int64 {
        let now = clock.now()
        return try db.insert("""
            INSERT INTO jobs (account_id, kind, payload, subject_id, batch_id, parent_id, run_at, max_attempts, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [accountID, kind, payload, subjectID, batchID, parentID, runAt ?? now, maxAttempts, now])
    }

    /// Claims the oldest due job of the given kinds: a queued one whose time has come, or a
    /// running one whose lease expired (its worker died). One statement, so two workers
    /// never claim the same job. With `perAccountCap`, a job of an account is claimable only
    /// while fewer than that many jobs of its kind and account run with a live lease, checked
    /// in the same statement (the rest wait in the queue; jobs without an account are not capped).
    ///
    /// Claimers on several connections (threads, nodes) do not wait for each other: the job is
    /// picked with the engine's row lock that passes over rows other claimers hold
    /// (`Database.rowLockSkippingLocked`), in a write guarded by that lock (`rowLockedWrite`).
    /// The lock does not guard the cap's count of running jobs, so capped claims run one at a
    /// time (`exclusive`): each counts after the previous one committed. The cap counts the
    /// claims made with it; a lane's kinds are always claimed with its cap or always without.
    public func claim(kinds: [String], leaseSeconds: Int64, perAccountCap: Int? = nil) throws -> Job? {
        let now = clock.now()
        let token = Digest.randomToken(length: 24)
        let placeholders = kinds.map { _ in "?" }.joined(separator: ", ")
        var arguments: [any SQLBindable] = [token, now + leaseSeconds] + kinds.map { $0 as any SQLBindable } + [now, now]
        var capped = ""
        if let perAccountCap {
            capped = """
                 AND (j.account_id IS NULL OR (
                        SELECT COUNT(*) FROM jobs r WHERE r.kind = j.kind AND r.account_id = j.account_id
                        AND r.state = 'running' AND r.lease_expires_at >= ?) < ?)
                """
            arguments += [now, perAccountCap]
        }
        return try db.rowLockedWrite(exclusive: perAccountCap != nil) {
            try db.queryOne("""
                UPDATE jobs SET state = 'running', lease_token = ?, lease_expires_at = ?, attempts = attempts + 1
                WHERE id = (
                    SELECT j.id FROM jobs j WHERE j.kind IN (\(placeholders)) AND (
                        (j.state = 'queued' AND j.run_at <= ?) OR (j.state = 'running' AND j.lease_expires_at < ?))\(capped)
                    ORDER BY j.run_at, j.id LIMIT 1 \(db.rowLockSkippingLocked))
                RETURNING *
                """, arguments).map(Job.init(row:))
        }
    }

    /// Extends the lease; false when the lease was lost (the job must stop). One statement on the
    /// job's row, fenced by the lease token: guarded by the row's lock (`rowLockedWrite`), so
    /// beats and completions of other jobs never make it fail.
    public func heartbeat(_ job: Job, leaseSeconds: Int64) throws -> Bool {
        try db.rowLockedWrite(exclusive: false) {
            try db.execute("UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND state = 'running' AND lease_token = ?",
                           [clock.now() + leaseSeconds, job.id, job.leaseToken]) == 1
        }
    }

    /// Whether this worker still holds the job's lease (one read): a run that writes nothing
    /// for a while looks here to learn it was cancelled.
    public func holds(_ job: Job) throws -> Bool {
        try db.queryOne("SELECT 1 AS held FROM jobs WHERE id = ? AND state = 'running' AND lease_token = ?",
                        [job.id, job.leaseToken]) != nil
    }

    /// One beat of a running job's heartbeat: extends the lease, or, when the row's token is no
    /// longer the lease's (the job was cancelled, or another worker claimed it after the lease
    /// ran out), marks the lease lost so its handler stops. Returns whether to beat again.
    /// An error (a busy database) changes nothing: the next beat tries again.
    public func heartbeat(_ lease: JobLease, leaseSeconds: Int64) throws -> Bool {
        if try heartbeat(lease.job, leaseSeconds: leaseSeconds) { return true }
        lease.markLost()
        return false
    }

    /// Completes a running job (see `complete(_:)` for a job) and records on its lease whether
    /// that happened; a lease found lost is marked so.
    @discardableResult
    public func complete(_ lease: JobLease) throws -> Bool {
        record(try complete(lease.job), on: lease)
    }

    /// Completes a running job with its effects (see `complete(_:effects:)` for a job) and records
    /// on its lease whether that happened; a lease found lost is marked so.
    @discardableResult
    public func complete(_ lease: JobLease, effects: () throws -> Void) throws -> Bool {
        record(try complete(lease.job, effects: effects), on: lease)
    }

    private func record(_ done: Bool, on lease: JobLease) -> Bool {
        if done { lease.markCompleted() } else { lease.markLost() }
        return done
    }

    /// Marks the job done, only if this worker still holds the lease: one statement on the job's
    /// row fenced by the lease token, guarded by the row's lock like a claim (`rowLockedWrite`),
    /// so workers completing jobs at once never make each other fail.
    @discardableResult
    public func complete(_ job: Job) throws -> Bool {
        try db.rowLockedWrite(exclusive: false) { try markDone(job) }
    }

    /// Marks the job done, only if this worker still holds the lease. Runs `effects` in the
    /// same transaction (a `write`, as the effects need), so the job's result and its completion
    /// commit together or not at all.
    @discardableResult
    public func complete(_ job: Job, effects: () throws -> Void) throws -> Bool {
        try db.write {
            guard try markDone(job) else { return false }
            try effects()
            return true
        }
    }

    private func markDone(_ job: Job) throws -> Bool {
        try db.execute("""
            UPDATE jobs SET state = 'done', finished_at = ?, lease_token = NULL, lease_expires_at = NULL, last_error = NULL
            WHERE id = ? AND state = 'running' AND lease_token = ?
            """, [clock.now(), job.id, job.leaseToken]) == 1
    }

    /// Records a failure: retried later with exponential backoff, or failed for good when
    /// `retryable` is false or attempts are used up.
    @discardableResult
    /// Like `complete`, `effects` (what the job's subject learns, told whether this failure is
    /// final) run in the same transaction, and only while this worker still holds the lease.
    public func fail(_ job: Job, error: String, retryable: Bool, effects: (_ final: Bool) throws -> Void = { _ in }) throws -> Bool {
        try end(job, final: !retryable || job.attempts >= job.maxAttempts, runAt: clock.now() + JobQueue.backoff(attempt: job.attempts),
                error: error, effects: effects)
    }

    /// Ends a run that did not succeed on a schedule of the kind's own instead of the backoff:
    /// queued again to run at `runAt`, or failed for good when `runAt` is nil or the attempts
    /// are used up. Like `complete`, only while this worker holds the lease, `effects` (told
    /// whether this is final) in the same transaction; the lease records whether that happened
    /// (completed: the run is over and the registry completes nothing more; else lost).
    @discardableResult
    public func retry(_ lease: JobLease, at runAt: Int64?, error: String, effects: (_ final: Bool) throws -> Void = { _ in }) throws -> Bool {
        let job = lease.job
        return record(try end(job, final: runAt == nil || job.attempts >= job.maxAttempts, runAt: runAt ?? clock.now(), error: error,
                              effects: effects), on: lease)
    }

    private func end(_ job: Job, final: Bool, runAt: Int64, error: String, effects: (_ final: Bool) throws -> Void) throws -> Bool {
        let now = clock.now()
        return try db.write {
            let changed = try db.execute("""
                UPDATE jobs SET state = ?, run_at = ?, last_error = ?, lease_token = NULL, lease_expires_at = NULL,
                    finished_at = ?
                WHERE id = ? AND state = 'running' AND lease_token = ?
                """, [final ? "failed" : "queued", runAt, error, (final ? now : nil) as Int64?, job.id, job.leaseToken])
            guard changed == 1 else { return false }
            try effects(final)
            return true
        }
    }

    /// Cancels the queued and running jobs of a subject (whatever their kind); joins the
    /// caller's transaction if there is one. A running one loses its lease: its heartbeat
    /// finds the token gone and its handler stops.
    public func cancel(subjectID: String) throws {
        _ = try db.write {
            try db.execute("""
                UPDATE jobs SET state = 'cancelled', finished_at = ?, lease_token = NULL, lease_expires_at = NULL
                WHERE subject_id = ? AND state IN ('queued', 'running')
                """, [clock.now(), subjectID])
        }
    }

    public func get(id: Int64) throws -> Job? {
        try db.queryOne("SELECT * FROM jobs WHERE id = ?", [id]).map(Job.init(row:))
    }

    /// 2, 4, 8 … seconds, at most ten minutes.
    public static func backoff(attempt: Int64) -> Int64 {
        min(600, Int64(1) << min(max(attempt, 1), 10))
    }
}
