#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Store

/// What the jobs dialect's rules refuse (besides `DomainError`): the cap, or a state that
/// forbids the action.
public enum JobRefusal: Error, Equatable, Sendable {
    /// Creating `requested` more would leave more than `cap` jobs active (pending + running).
    case capReached(cap: Int, active: Int, requested: Int)
    /// The job's or batch's state forbids the action (a 409).
    case conflict(String)

    public var message: String {
        switch self {
        case .capReached(let cap, let active, let requested):
            "At most \(cap) jobs may be active (pending or processing) at once; \(active) are, and \(requested) more were asked for"
        case .conflict(let message): message
        }
    }
}

/// A group of jobs made by one bulk create (or a paused single create): `paused` until
/// `POST /batch/{id}/start`, then `started`.
public struct JobBatch: Equatable, Sendable {
    public enum State: String, Sendable { case paused, started }

    public var id: String
    public var accountID: Int64
    public var state: State
    public var createdAt: Int64
    public var startedAt: Int64?
    public var webhookURL: String?

    init(row: Row) {
        id = row.string("public_id") ?? ""
        accountID = row.int("account_id") ?? 0
        state = row.string("state").flatMap(State.init(rawValue:)) ?? .paused
        createdAt = row.int("created_at") ?? 0
        startedAt = row.int("started_at")
        webhookURL = row.string("webhook_url")
    }
}

/// A batch as `GET /batch/{id}` shows it: its jobs (oldest first), how many are in each job
/// status, and the overall progress (finished jobs count as 100 %).
public struct BatchStatus: Equatable, Sendable {
    public var batch: JobBatch
    public var jobs: [Fetch]
    public var counts: [Fetch.JobStatus: Int]
    /// 0–100: the mean of every job's percent, finished ones (whatever the outcome) at 100.
    public var progress: Double

    /// Started and every job finished.
    public var isComplete: Bool { batch.state == .started && jobs.allSatisfy(\.isFinished) }

    init(batch: JobBatch, jobs: [Fetch]) {
        self.batch = batch
        self.jobs = jobs
        counts = Dictionary(uniqueKeysWithValues: Fetch.JobStatus.allCases.map { status in
            (status, jobs.filter { $0.jobStatus == status }.count)
        })
        let percents = jobs.map { $0.isFinished ? 100 : min(100, max(0, $0.progress.percent ?? 0)) }
        progress = percents.isEmpty ? 0 : percents.reduce(0, +) / Double(percents.count)
    }
}

/// What `GET /usage` reports of an account.
public struct JobUsage: Equatable, Sendable {
    /// Every fetch of the account (all dialects) by job status.
    public var counts: [Fetch.JobStatus: Int64]
    /// Pending + processing: what the cap counts.
    public var active: Int64
    /// Bytes of the stored files on this server (successful fetches whose file is kept).
    public var bytesStored: Int64
    /// Bytes of the files uploaded to the account's own bucket.
    public var bucketBytes: Int64
    public var cap: Int
}

/// One job of a bulk create: its URL and, when given (a playlist entry's title), its download name.
public struct BulkEntry: Equatable, Sendable {
    public var url: String
    public var filename: String?

    public init(url: String, filename: String? = nil) {
        self.url = url
        self.filename = filename
    }
}

/// A page of `GET /jobs`, newest first: its jobs, whether more follow, and the next page's cursor.
public struct JobPage: Sendable {
    public var jobs: [Fetch]
    public var hasMore: Bool
    public var nextCursor: String?
}

/// Seed 002's download jobs, over `FetchService` (a job is a fetch, `origin` `jobs`): creates
/// under the per-account cap of active jobs (checked and inserted in one write transaction),
/// bulk creates (all or nothing), retry, cancel, deleting a job's file, batches (paused,
/// renamed, started) and usage.
public struct JobService {
    let db: any Database
    let storage: any FileStore
    let clock: Clock
    /// Active (pending + running) fetches one account may have; creates beyond it are refused.
    public let cap: Int
    let fetches: FetchService

    public static let defaultCap = 500
    public static let maxBulkURLs = 100
    /// What a 429 at the cap tells the client to wait (seconds): jobs take seconds to minutes.
    public static let retryAfterSeconds = 5

    public init(db: any Database, storage: any FileStore, cap: Int = JobService.defaultCap, clock: Clock = .system) {
        self.db = db
        self.storage = storage
        self.cap = cap
        self.clock = clock
        fetches = FetchService(db: db, storage: storage, clock: clock)
    }

    /// Creates one job (queued; or, `paused`, the one job of a new paused batch) if the cap allows.
    /// The URLs must already have passed the caller's address check.
    public func create(accountID: Int64, url: String, quality: FetchQuality, options: FetchOptions, webhookURL: String?,
                       paused: Bool = false) throws -> Fetch {
        if paused {
            return try bulk(accountID: accountID, entries: [BulkEntry(url: url, filename: options.filename)], quality: quality,
                            options: options, webhookURL: webhookURL, paused: true).jobs[0]
        }
        try fetches.check(url: url, webhookURL: webhookURL, options: options)
        return try db.write {
            try admit(1, accountID: accountID)
            return try fetches.insert(accountID: accountID, url: url, quality: quality, webhookURL: webhookURL, options: options,
                                      origin: .jobs)
        }
    }

    /// Creates a batch of jobs (1 to `maxBulkURLs`), all or nothing, in one transaction: the cap
    /// counts them all. Each entry's `filename` replaces the options' one. A paused batch's
    /// jobs wait (step `paused`, nothing queued) until `start`.
    public func bulk(accountID: Int64, entries: [BulkEntry], quality: FetchQuality, options: FetchOptions, webhookURL: String?,
                     paused: Bool) throws -> (batch: JobBatch, jobs: [Fetch]) {
        guard !entries.isEmpty else { throw DomainError.invalid("urls must name at least one URL") }
        guard entries.count <= JobService.maxBulkURLs else {
            throw DomainError.invalid("urls takes at most \(JobService.maxBulkURLs) URLs, got \(entries.count)")
        }
        let each = try entries.enumerated().map { index, entry in
            var own = options
            if let filename = entry.filename { own.filename = filename }
            do { try fetches.check(url: entry.url, webhookURL: webhookURL, options: own) } catch let error as DomainError {
                throw DomainError.invalid("urls[\(index)]: \(error.message)")
            }
            return (entry.url, own)
        }
        let batchID = UUID().uuidString.lowercased()
        return try db.write {
            try admit(entries.count, accountID: accountID)
            let now = clock.now()
            try db.execute("""
                INSERT INTO batches (public_id, account_id, state, created_at, started_at, webhook_url) VALUES (?, ?, ?, ?, ?, ?)
                """, [batchID, accountID, (paused ? JobBatch.State.paused : .started).rawValue, now, paused ? nil : now, webhookURL])
            let jobs = try each.map { url, own in
                try fetches.insert(accountID: accountID, url: url, quality: quality, webhookURL: webhookURL, options: own,
                                   origin: .jobs, batchID: batchID, paused: paused)
            }
            return (try batch(accountID: accountID, id: batchID).batch, jobs)
        }
    }

    /// Refuses (`JobRefusal.capReached`) when `count` more would leave more than `cap` active;
    /// inside the caller's write transaction. The account row is written first, so an engine
    /// with row locks (PostgreSQL) serializes creators of one account as SQLite's write lock does.
    func admit(_ count: Int, accountID: Int64) throws {
        try db.execute("UPDATE accounts SET id = id WHERE id = ?", [accountID])
        let active = try activeCount(accountID: accountID)
        if active + Int64(count) > Int64(cap) {
            throw JobRefusal.capReached(cap: cap, active: Int(active), requested: count)
        }
    }

    func activeCount(accountID: Int64) throws -> Int64 {
        try db.queryOne("SELECT COUNT(*) AS n FROM fetches WHERE account_id = ? AND status IN ('pending', 'running')",
                        [accountID])?.int("n") ?? 0
    }

    public func get(accountID: Int64, id: String) throws -> Fetch {
        try fetches.get(accountID: accountID, publicID: id)
    }

    /// The account's jobs (fetches of every dialect), newest first, optionally of one job status
    /// and one batch; `after` (a previous page's `nextCursor`) starts below that job. Keyset
    /// only: every page costs what the first costs, at any depth and table size.
    public func list(accountID: Int64, status: Fetch.JobStatus?, batchID: String?, limit: Int, after: String?) throws -> JobPage {
        let (sql, arguments) = try JobService.listQuery(accountID: accountID, status: status, batchID: batchID,
                                                        limit: limit, after: after)
        var jobs = try db.query(sql, arguments).map(Fetch.init(row:))
        let hasMore = jobs.count > limit
        if hasMore { jobs.removeLast() }
        return JobPage(jobs: jobs, hasMore: hasMore, nextCursor: hasMore ? jobs.last.map { Page.cursor(rowID: $0.rowID) } : nil)
    }

    /// The list's statement: it reads `limit + 1` rows along `fetches_account` (or
    /// `fetches_account_status`, `fetches_account_batch`) from the cursor down.
    static func listQuery(accountID: Int64, status: Fetch.JobStatus?, batchID: String?, limit: Int,
                          after: String?) throws -> (String, [any SQLBindable]) {
        var sql = "SELECT * FROM fetches WHERE account_id = ?"
        var arguments: [any SQLBindable] = [accountID]
        if let batchID {
            sql += " AND batch_id = ?"
            arguments.append(batchID)
        }
        switch status {
        case nil: break
        case .pending: sql += " AND status = 'pending'"
        case .processing: sql += " AND status = 'running'"
        case .completed: sql += " AND status = 'success'"
        case .failed: sql += " AND status = 'failed' AND (error_code IS NULL OR error_code <> 'cancelled')"
        case .cancelled: sql += " AND status = 'failed' AND error_code = 'cancelled'"
        }
        if let after {
            sql += " AND id < ?"
            arguments.append(try Page.rowID(cursor: after))
        }
        sql += " ORDER BY id DESC LIMIT ?"
        arguments.append(max(0, limit) + 1)
        return (sql, arguments)
    }

    /// Cancels a Pending or Processing job as the fetch dialect does (its job cancelled: a
    /// running worker kills yt-dlp within a second); any other status → `JobRefusal.conflict`.
    public func cancel(accountID: Int64, id: String) throws -> Fetch {
        try db.write {
            let fetch = try fetches.get(accountID: accountID, publicID: id)
            guard !fetch.isFinished else {
                throw JobRefusal.conflict("Job \(id) is \(fetch.jobStatus.rawValue); only a Pending or Processing job can be cancelled")
            }
            try fetches.cancel(fetch)
            return try fetches.get(publicID: id)!
        }
    }

    /// A Failed or Cancelled job again, as a new job (same URL, quality, options, webhook; no
    /// batch), under the cap; any other status → `JobRefusal.conflict`.
    public func retry(accountID: Int64, id: String) throws -> Fetch {
        try db.write {
            let old = try fetches.get(accountID: accountID, publicID: id)
            guard old.status == .failed else {
                throw JobRefusal.conflict("Job \(id) is \(old.jobStatus.rawValue); only a Failed or Cancelled job can be retried")
            }
            try admit(1, accountID: accountID)
            return try fetches.insert(accountID: accountID, url: old.url, quality: FetchQuality(rawValue: old.quality) ?? .best,
                                      webhookURL: old.webhookURL, options: old.options, origin: .jobs)
        }
    }

    /// Deletes the job's file stored on this server and keeps the job (its `storageKey` is
    /// cleared); a job without one is not found. A file in the account's bucket is the
    /// caller's to delete (the jobs dialect's bucket hook) before it calls this.
    public func deleteFile(accountID: Int64, id: String) throws -> Fetch {
        let (fetch, key) = try db.write { () throws -> (Fetch, String) in
            let fetch = try fetches.get(accountID: accountID, publicID: id)
            guard let key = fetch.storageKey else { throw DomainError.notFound("Job \(id) has no stored file") }
            try db.execute("UPDATE fetches SET storage_key = NULL, updated_at = ? WHERE id = ?", [clock.now(), fetch.rowID])
            return (try fetches.get(publicID: id)!, key)
        }
        try? storage.remove(key: key)
        return fetch
    }

    // MARK: batches

    /// The account's batch with its jobs; another account's is not found, like a missing one.
    public func batch(accountID: Int64, id: String) throws -> BatchStatus {
        guard let status = try batchStatus(id: id), status.batch.accountID == accountID else {
            throw DomainError.notFound("Batch \(id) not found")
        }
        return status
    }

    /// Any account's batch by its id (the worker's announcements); nil when there is none.
    public func batchStatus(id: String) throws -> BatchStatus? {
        guard let row = try db.queryOne("SELECT * FROM batches WHERE public_id = ?", [id]) else { return nil }
        let batch = JobBatch(row: row)
        let jobs = try db.query("SELECT * FROM fetches WHERE account_id = ? AND batch_id = ? ORDER BY id", [batch.accountID, id])
        return BatchStatus(batch: batch, jobs: jobs.map(Fetch.init(row:)))
    }

    /// Sets the download names of jobs of a paused batch (all or nothing); a started batch →
    /// `JobRefusal.conflict`, a job not in the batch → `DomainError.invalid`.
    public func rename(accountID: Int64, batchID: String, _ names: [(id: String, filename: String)]) throws -> BatchStatus {
        try db.write {
            let status = try batch(accountID: accountID, id: batchID)
            guard status.batch.state == .paused else {
                throw JobRefusal.conflict("Batch \(batchID) is started; jobs can be renamed only while it is paused")
            }
            for (id, filename) in names {
                guard let job = status.jobs.first(where: { $0.id == id }) else {
                    throw DomainError.invalid("job \(id.prefix(64)) is not in batch \(batchID)")
                }
                var options = job.options
                options.filename = filename
                do { try options.validate() } catch let error as DomainError {
                    throw DomainError.invalid("job \(id): \(error.message)")
                }
                try db.execute("UPDATE fetches SET options = ?, updated_at = ? WHERE id = ?", [options.stored(), clock.now(), job.rowID])
            }
            return try batch(accountID: accountID, id: batchID)
        }
    }

    /// Releases a paused batch: its waiting jobs are queued, all in one transaction (cancelled
    /// ones stay cancelled); a started batch → `JobRefusal.conflict`.
    public func start(accountID: Int64, batchID: String) throws -> BatchStatus {
        try db.write {
            let status = try batch(accountID: accountID, id: batchID)
            guard status.batch.state == .paused else { throw JobRefusal.conflict("Batch \(batchID) is already started") }
            let now = clock.now()
            try db.execute("UPDATE batches SET state = 'started', started_at = ? WHERE public_id = ?", [now, batchID])
            for job in status.jobs where job.status == .pending && job.step == .paused {
                try db.execute("UPDATE fetches SET step = 'queued', updated_at = ? WHERE id = ?", [now, job.rowID])
                try fetches.queue(publicID: job.id, accountID: accountID)
            }
            return try batch(accountID: accountID, id: batchID)
        }
    }

    // MARK: usage

    /// Reads several statements: call it inside one snapshot (a GET route's) for a consistent answer.
    public func usage(accountID: Int64) throws -> JobUsage {
        do {
            var counts = Dictionary(uniqueKeysWithValues: Fetch.JobStatus.allCases.map { ($0, Int64(0)) })
            for row in try db.query("""
                SELECT status, CASE WHEN error_code = 'cancelled' THEN 1 ELSE 0 END AS cancelled, COUNT(*) AS n FROM fetches
                WHERE account_id = ? GROUP BY status, CASE WHEN error_code = 'cancelled' THEN 1 ELSE 0 END
                """, [accountID]) {
                let status: Fetch.JobStatus = switch row.string("status") {
                case "pending": .pending
                case "running": .processing
                case "success": .completed
                default: row.int("cancelled") == 1 ? .cancelled : .failed
                }
                counts[status, default: 0] += row.int("n") ?? 0
            }
            // SUM of integers is an integer on SQLite but `numeric` on PostgreSQL: cast, so it reads exactly.
            let bytes = try db.queryOne("""
                SELECT CAST(COALESCE(SUM(CASE WHEN storage_key IS NOT NULL THEN size_bytes END), 0) AS BIGINT) AS here,
                       CAST(COALESCE(SUM(CASE WHEN object_key IS NOT NULL THEN size_bytes END), 0) AS BIGINT) AS bucket
                FROM fetches WHERE account_id = ? AND status = 'success'
                """, [accountID])
            return JobUsage(counts: counts, active: counts[.pending, default: 0] + counts[.processing, default: 0],
                            bytesStored: bytes?.int("here") ?? 0, bucketBytes: bytes?.int("bucket") ?? 0, cap: cap)
        }
    }
}
