import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Store

/// Fetches (seeds 000 and 003): create (the row and its queued `MediaFetchJob` in one
/// transaction), read, cancel, delete; the worker's side (running, progress fenced by the
/// job's lease, success, failure); retention.
public struct FetchService {
    let db: any Database
    let storage: any FileStore
    let clock: Clock

    public init(db: any Database, storage: any FileStore, clock: Clock = .system) {
        self.db = db
        self.storage = storage
        self.clock = clock
    }

    /// The error code of a fetch cancelled by its client.
    public static let cancelledCode = "cancelled"
    public static let cancelledMessage = "The fetch was cancelled"

    /// Records a fetch as `pending` (step `queued`) and queues its job, in one transaction.
    /// `url` (and `webhookURL`) must already have passed the caller's address check.
    public func create(accountID: Int64, url: String, quality: FetchQuality, webhookURL: String?,
                       options: FetchOptions = FetchOptions(), origin: Fetch.Origin = .fetch) throws -> Fetch {
        try check(url: url, webhookURL: webhookURL, options: options)
        return try db.write {
            try insert(accountID: accountID, url: url, quality: quality, webhookURL: webhookURL, options: options, origin: origin)
        }
    }

    /// The rules every new fetch's input passes (`DomainError.invalid` naming the field).
    func check(url: String, webhookURL: String?, options: FetchOptions) throws {
        try FieldRules.text(url, field: "url", maxBytes: FieldRules.maxURLBytes)
        try FieldRules.text(webhookURL, field: "webhook_url", maxBytes: FieldRules.maxURLBytes)
        try options.validate()
    }

    /// Inserts a checked fetch and, unless `paused` (a paused batch's job: step `paused`, no
    /// job until the batch starts), queues its job; runs in the caller's write transaction.
    func insert(accountID: Int64, url: String, quality: FetchQuality, webhookURL: String?, options: FetchOptions,
                origin: Fetch.Origin, batchID: String? = nil, paused: Bool = false) throws -> Fetch {
        let publicID = UUID().uuidString.lowercased()
        let now = clock.now()
        try db.execute("""
            INSERT INTO fetches (public_id, account_id, url, quality, status, step, webhook_url, options, origin, batch_id,
                created_at, updated_at)
            VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)
            """, [publicID, accountID, url, quality.rawValue, (paused ? Fetch.Step.paused : .queued).rawValue, webhookURL,
                  options.stored(), origin.rawValue, batchID, now, now])
        if !paused { try queue(publicID: publicID, accountID: accountID) }
        return try get(publicID: publicID)!
    }

    /// Queues the fetch's `MediaFetchJob`; joins the caller's transaction.
    func queue(publicID: String, accountID: Int64) throws {
        try JobQueue(db: db, clock: clock).enqueue(MediaFetchJob.self, publicID, accountID: accountID,
                                                   maxAttempts: MediaFetchJob.maxAttempts)
    }

    /// The account's fetch; another account's is not found, like a missing one.
    public func get(accountID: Int64, publicID: String) throws -> Fetch {
        guard let row = try db.queryOne("SELECT * FROM fetches WHERE account_id = ? AND public_id = ?", [accountID, publicID]) else {
            throw DomainError.notFound("Fetch \(publicID) not found")
        }
        return Fetch(row: row)
    }

    public func get(publicID: String) throws -> Fetch? {
        try db.queryOne("SELECT * FROM fetches WHERE public_id = ?", [publicID]).map(Fetch.init(row:))
    }

    /// Newest first, optionally of one status, with the total of that selection. `after` (a
    /// previous page's cursor) starts below that row, else the page starts at its offset.
    public func list(accountID: Int64, status: Fetch.Status?, page: Page) throws -> Listing<Fetch> {
        var filter = "account_id = ?"
        var arguments: [any SQLBindable] = [accountID]
        if let status {
            filter += " AND status = ?"
            arguments.append(status.rawValue)
        }
        return try .newestFirst(db, columns: "*", from: "fetches", where: filter, arguments, page: page,
                                items: { $0.map(Fetch.init(row:)) }, rowID: \.rowID) {
            try db.queryOne("SELECT COUNT(*) AS n FROM fetches WHERE \(filter)", arguments)?.int("n") ?? 0
        }
    }

    /// The account's newest `limit` fetches, without a total (a list that shows none need not count them).
    public func newest(accountID: Int64, limit: Int) throws -> [Fetch] {
        try db.query("SELECT * FROM fetches WHERE account_id = ? ORDER BY id DESC LIMIT ?", [accountID, max(0, limit)]).map(Fetch.init(row:))
    }

    public enum Removal: Equatable, Sendable {
        /// It was pending or running: its job is cancelled and it is `failed` (`cancelled`).
        case cancelled(Fetch)
        /// It was finished: the record and its bytes are gone.
        case deleted
    }

    /// Seed 000's DELETE: a pending or running fetch is cancelled (its job too: a running one's
    /// worker loses its lease and stops); a finished one is deleted with its stored bytes.
    public func cancelOrDelete(accountID: Int64, publicID: String) throws -> Removal {
        let (removal, keys) = try db.write { () throws -> (Removal, [String]) in
            let fetch = try get(accountID: accountID, publicID: publicID)
            if fetch.isFinished {
                try db.execute("DELETE FROM fetches WHERE id = ?", [fetch.rowID])
                try JobQueue(db: db, clock: clock).cancel(subjectID: fetch.id)
                return (.deleted, fetch.storedKeys)
            }
            try cancel(fetch)
            return (.cancelled(try get(publicID: publicID)!), [])
        }
        for key in keys { try? storage.remove(key: key) }
        return removal
    }

    /// Seed 003's remove: whatever its state, the job is cancelled and the record and bytes deleted.
    public func remove(accountID: Int64, publicID: String) throws {
        let keys = try db.write {
            let fetch = try get(accountID: accountID, publicID: publicID)
            try db.execute("DELETE FROM fetches WHERE id = ?", [fetch.rowID])
            try JobQueue(db: db, clock: clock).cancel(subjectID: fetch.id)
            return fetch.storedKeys
        }
        for key in keys { try? storage.remove(key: key) }
    }

    /// Cancels a pending or running fetch (its job too); joins the caller's transaction.
    func cancel(_ fetch: Fetch) throws {
        try JobQueue(db: db, clock: clock).cancel(subjectID: fetch.id)
        let now = clock.now()
        try db.execute("""
            UPDATE fetches SET status = 'failed', step = NULL, error_code = ?, error_message = ?, finished_at = ?, updated_at = ?
            WHERE id = ?
            """, [FetchService.cancelledCode, FetchService.cancelledMessage, now, now, fetch.rowID])
    }

    // MARK: worker side

    /// The fenced condition every worker write carries: the job still holds this lease.
    private static let leaseHeld = "EXISTS (SELECT 1 FROM jobs WHERE id = ? AND state = 'running' AND lease_token = ?)"

    /// `pending` → `running` (step `downloading`, progress cleared, `started_at` now) while the
    /// lease holds; false when the fetch is gone, finished or cancelled, or the lease is lost.
    public func markRunning(publicID: String, lease: JobLease) throws -> Bool {
        try db.write {
            try db.execute("""
                UPDATE fetches SET status = 'running', step = 'downloading', progress_percent = NULL, progress_bytes = NULL,
                    progress_total = NULL, progress_speed = NULL, progress_eta = NULL, started_at = ?, updated_at = ?
                WHERE public_id = ? AND status IN ('pending', 'running') AND \(FetchService.leaseHeld)
                """, [clock.now(), clock.now(), publicID, lease.job.id, lease.job.leaseToken]) == 1
        }
    }

    /// Records progress while the job `jobID` still holds `leaseToken`; false means the lease
    /// is gone (cancelled, or another worker's now): the run must stop.
    public func updateProgress(publicID: String, jobID: Int64, leaseToken: String, _ progress: FetchProgress) throws -> Bool {
        try db.write {
            try db.execute("""
                UPDATE fetches SET step = ?, progress_percent = ?, progress_bytes = ?, progress_total = ?, progress_speed = ?,
                    progress_eta = ?, updated_at = ?
                WHERE public_id = ? AND status = 'running' AND \(FetchService.leaseHeld)
                """, [progress.step.rawValue, progress.percent, progress.bytes, progress.totalBytes, progress.speed, progress.eta,
                      clock.now(), publicID, jobID, leaseToken]) == 1
        }
    }

    /// The media is stored: `success`, step `done`. Joins the caller's transaction (the job's
    /// completion, which is fenced by the lease), so both commit together.
    @discardableResult
    /// `objectKey`: the file went to the account's own bucket under that key and is not kept here.
    public func succeed(publicID: String, _ result: FetchedMedia, objectKey: String? = nil) throws -> Bool {
        try db.execute("""
            UPDATE fetches SET status = 'success', step = 'done', progress_percent = 100, progress_eta = NULL, storage_key = ?,
                object_key = ?, filename = ?, size_bytes = ?, content_type = ?, title = ?, extractor = ?, duration = ?, ffprobe = ?,
                sidecars = ?, error_code = NULL, error_message = NULL, finished_at = ?, updated_at = ?
            WHERE public_id = ? AND status IN ('pending', 'running')
            """, [objectKey == nil ? result.storageKey : nil, objectKey, result.filename, result.sizeBytes, result.contentType, result.title, result.extractor,
                  result.duration, result.ffprobe, FetchSidecar.stored(result.sidecars), clock.now(), clock.now(), publicID]) == 1
    }

    /// An attempt failed: for good (`final`: `failed`, finished) or to be retried (see
    /// `awaitRetry`). `code` is a stable code, `message` readable and free of local paths.
    /// Joins the caller's transaction (the job's fenced failure).
    public func fail(publicID: String, code: String, message: String, final: Bool) throws {
        guard final else { return try awaitRetry(publicID: publicID, code: code, message: message) }
        try db.execute("""
            UPDATE fetches SET status = 'failed', step = NULL, error_code = ?, error_message = ?, finished_at = ?, updated_at = ?
            WHERE public_id = ? AND status IN ('pending', 'running')
            """, [code, message, clock.now(), clock.now(), publicID])
    }

    /// A transient failure: back to `pending` (step `queued`) with the reason, until the job runs again.
    public func awaitRetry(publicID: String, code: String, message: String) throws {
        try db.execute("""
            UPDATE fetches SET status = 'pending', step = 'queued', error_code = ?, error_message = ?, updated_at = ?
            WHERE public_id = ? AND status = 'running'
            """, [code, message, clock.now(), publicID])
    }

    // MARK: retention

    /// Deletes finished fetches (success or failed) that finished before `cutoff` (Unix
    /// seconds), records first and then their stored bytes (sidecars too); returns the storage keys removed.
    /// Pending and running fetches are never expired.
    @discardableResult
    public func expire(olderThan cutoff: Int64) throws -> [String] {
        let keys = try db.write {
            try db.query("""
                DELETE FROM fetches WHERE status IN ('success', 'failed') AND COALESCE(finished_at, created_at) < ?
                RETURNING storage_key, sidecars
                """, [cutoff]).flatMap { row in
                    [row.string("storage_key")].compactMap { $0 } + FetchSidecar.stored(row.string("sidecars")).map(\.storageKey)
                }
        }
        for key in keys { try? storage.remove(key: key) }
        return keys
    }

    // MARK: names

    /// `f/<public id>.<ext>`: one key per fetch, so a re-run writes the same place; the
    /// extension (letters and digits, at most 8) lets nginx and clients tell the type.
    public static func storageKey(publicID: String, ext: String) -> String {
        "f/" + publicID + (cleanExtension(ext).map { "." + $0 } ?? "")
    }

    /// `f/<public id>.<language>.<ext>`: a subtitle file stored beside the media.
    public static func sidecarKey(publicID: String, language: String, ext: String) -> String {
        let code = language.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        return "f/" + publicID + "." + (code.isEmpty ? "sub" : code) + (cleanExtension(ext).map { "." + $0 } ?? "")
    }

    /// The download name: the title without path separators and control characters (at most
    /// 200 bytes; "download" when nothing is left), a dot and the extension.
    public static func filename(title: String?, ext: String) -> String {
        var base = UploadService.sanitize(filename: (title ?? "").replacing("\\", with: "_")
            .replacing("/", with: "_"))
        while base.utf8.count > 200 { base.removeLast() }
        base = Whitespace.trim(base, newlines: false)
        if base.isEmpty || base == "." || base == ".." { base = "download" }
        return cleanExtension(ext).map { base + "." + $0 } ?? base
    }

    static func cleanExtension(_ ext: String) -> String? {
        let lowered = ext.lowercased()
        guard !lowered.isEmpty, lowered.count <= 8, lowered.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return nil
        }
        return lowered
    }
}
