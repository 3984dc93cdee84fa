@testable import Domain
import FileStores
import Foundation
import Store
import Synchronization
import XCTest

/// Seed 002's jobs over fetches: the cap at its edge, bulk all or nothing, the state rules of
/// cancel, retry, rename and start, `updated_at` on every write, usage, the list's index.
final class JobServiceTests: DomainTestCase {
    var time: TestTime!
    var jobs: JobService!
    var queue: JobQueue!
    var account: Int64 = 0
    let url = "https://example.com/v"

    override func setUpWithError() throws {
        try super.setUpWithError()
        time = TestTime(10_000)
        jobs = JobService(db: db, storage: storage, clock: time.clock)
        queue = JobQueue(db: db, clock: time.clock)
        account = try makeAccount().0.id
    }

    func create(paused: Bool = false, options: FetchOptions = FetchOptions(), account: Int64? = nil) throws -> Fetch {
        try jobs.create(accountID: account ?? self.account, url: url, quality: .best, options: options, webhookURL: nil, paused: paused)
    }

    func count(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Int64 {
        try db.queryOne(sql, arguments)?.int("n") ?? -1
    }

    func queued() throws -> Int64 { try count("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'media.fetch' AND state = 'queued'") }

    func testCapIsExactAtItsEdge() throws {
        XCTAssertEqual(jobs.cap, 500)
        // 498 jobs, plus one fetch of another dialect: they all count.
        for _ in 0..<498 { _ = try create() }
        _ = try FetchService(db: db, storage: storage, clock: time.clock).create(accountID: account, url: url, quality: .best,
                                                                                 webhookURL: nil, origin: .downloader)
        XCTAssertEqual(try jobs.activeCount(accountID: account), 499)
        // Two more at 499: refused whole, nothing made.
        XCTAssertThrowsError(try jobs.bulk(accountID: account, entries: [BulkEntry(url: url), BulkEntry(url: url)], quality: .best,
                                           options: FetchOptions(), webhookURL: nil, paused: false)) { error in
            XCTAssertEqual(error as? JobRefusal, .capReached(cap: 500, active: 499, requested: 2))
        }
        XCTAssertEqual(try count("SELECT COUNT(*) AS n FROM batches"), 0)
        // The 500th is accepted, the 501st refused.
        _ = try create()
        XCTAssertEqual(try jobs.activeCount(accountID: account), 500)
        XCTAssertThrowsError(try create()) { error in
            XCTAssertEqual(error as? JobRefusal, .capReached(cap: 500, active: 500, requested: 1))
        }
        XCTAssertThrowsError(try create(paused: true)) { XCTAssertEqual($0 as? JobRefusal, .capReached(cap: 500, active: 500, requested: 1)) }
        XCTAssertEqual(try count("SELECT COUNT(*) AS n FROM fetches"), 500)
        XCTAssertEqual(try queued(), 500)
        // Another account has its own cap; a finished job frees a place.
        let other = try makeAccount("Other").0.id
        XCTAssertEqual(try create(account: other).accountID, other)
        let first = try XCTUnwrap(try jobs.list(accountID: account, status: .pending, batchID: nil, limit: 1, after: nil).jobs.first)
        _ = try jobs.cancel(accountID: account, id: first.id)
        XCTAssertEqual(try create().status, .pending)
        XCTAssertThrowsError(try create())
    }

    func testCapHoldsUnderConcurrentCreatorsOnSeparateConnections() throws {
        let small = 20
        let accepted = Mutex(0), refused = Mutex(0)
        let url = databaseURL, account = self.account, files = directory + "/data/files"
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let db = try? Databases.open(url: url) else { return XCTFail("no connection") }
            let service = JobService(db: db, storage: LocalDiskStore(directory: files), cap: small)
            for _ in 0..<5 {
                do {
                    _ = try service.create(accountID: account, url: "https://example.com/v", quality: .best, options: FetchOptions(),
                                           webhookURL: nil)
                    accepted.withLock { $0 += 1 }
                } catch JobRefusal.capReached {
                    refused.withLock { $0 += 1 }
                } catch {
                    XCTFail("\(error)")
                }
            }
        }
        XCTAssertEqual(accepted.withLock { $0 }, small)
        XCTAssertEqual(refused.withLock { $0 }, 40 - small)
        XCTAssertEqual(try jobs.activeCount(accountID: account), Int64(small))
    }

    func testBulkIsAllOrNothing() throws {
        let tooMany = Array(repeating: BulkEntry(url: url), count: 101)
        XCTAssertThrowsError(try jobs.bulk(accountID: account, entries: tooMany, quality: .best, options: FetchOptions(), webhookURL: nil,
                                           paused: false)) { XCTAssertEqual($0 as? DomainError, .invalid("urls takes at most 100 URLs, got 101")) }
        // One bad entry (a filename with a control character) refuses the lot.
        XCTAssertThrowsError(try jobs.bulk(accountID: account, entries: [BulkEntry(url: url), BulkEntry(url: url, filename: "a\u{1}b")],
                                           quality: .best, options: FetchOptions(), webhookURL: nil, paused: false))
        XCTAssertEqual(try count("SELECT COUNT(*) AS n FROM fetches"), 0)
        XCTAssertEqual(try count("SELECT COUNT(*) AS n FROM batches"), 0)
        let hundred = Array(repeating: BulkEntry(url: url), count: 100)
        let made = try jobs.bulk(accountID: account, entries: hundred, quality: .p720, options: FetchOptions(format: .mkv), webhookURL: nil,
                                 paused: false)
        XCTAssertEqual(made.jobs.count, 100)
        XCTAssertEqual(made.batch.state, .started)
        XCTAssertTrue(made.jobs.allSatisfy { $0.batchID == made.batch.id && $0.origin == .jobs && $0.options.format == .mkv })
        XCTAssertEqual(try queued(), 100)
    }

    func testPausedBatchRenameAndStart() throws {
        let made = try jobs.bulk(accountID: account, entries: [BulkEntry(url: url, filename: "One"), BulkEntry(url: url), BulkEntry(url: url)],
                                 quality: .best, options: FetchOptions(), webhookURL: "https://example.com/hook", paused: true)
        XCTAssertEqual(made.batch.state, .paused)
        XCTAssertEqual(made.jobs.map(\.step), [.paused, .paused, .paused])
        XCTAssertEqual(made.jobs[0].options.filename, "One")
        XCTAssertEqual(try queued(), 0)
        let (a, b, c) = (made.jobs[0].id, made.jobs[1].id, made.jobs[2].id)
        // A rename naming a job outside the batch changes nothing.
        XCTAssertThrowsError(try jobs.rename(accountID: account, batchID: made.batch.id, [(b, "Two"), ("nope", "x")]))
        XCTAssertNil(try jobs.get(accountID: account, id: b).options.filename)
        time.now += 5
        let renamed = try jobs.rename(accountID: account, batchID: made.batch.id, [(b, "Two")])
        XCTAssertEqual(renamed.jobs[1].options.filename, "Two")
        XCTAssertEqual(renamed.jobs[1].updatedAt, 10_005)
        XCTAssertEqual(try jobs.cancel(accountID: account, id: c).jobStatus, .cancelled)
        // Another account sees no batch.
        let other = try makeAccount("Other").0.id
        XCTAssertThrowsError(try jobs.start(accountID: other, batchID: made.batch.id)) {
            XCTAssertEqual($0 as? DomainError, .notFound("Batch \(made.batch.id) not found"))
        }
        let started = try jobs.start(accountID: account, batchID: made.batch.id)
        XCTAssertEqual(started.batch.state, .started)
        XCTAssertEqual(started.batch.startedAt, 10_005)
        XCTAssertEqual(started.jobs.map(\.step), [.queued, .queued, nil])
        XCTAssertEqual(started.counts[.pending], 2)
        XCTAssertEqual(started.counts[.cancelled], 1)
        XCTAssertEqual(try queued(), 2)
        XCTAssertFalse(started.isComplete)
        XCTAssertThrowsError(try jobs.start(accountID: account, batchID: made.batch.id)) {
            XCTAssertEqual($0 as? JobRefusal, .conflict("Batch \(made.batch.id) is already started"))
        }
        XCTAssertThrowsError(try jobs.rename(accountID: account, batchID: made.batch.id, [(a, "Late")])) {
            guard case .conflict? = $0 as? JobRefusal else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try queued(), 2)
        // Progress: the cancelled job counts as finished (100), the others at 0.
        XCTAssertEqual(started.progress, 100.0 / 3, accuracy: 0.001)
        XCTAssertEqual(try jobs.batchStatus(id: made.batch.id)?.batch.webhookURL, "https://example.com/hook")
    }

    func testCancelRetryAndDeleteFileRules() throws {
        let job = try create(options: FetchOptions(audioOnly: true, filename: "Song"))
        let cancelled = try jobs.cancel(accountID: account, id: job.id)
        XCTAssertEqual(cancelled.jobStatus, .cancelled)
        XCTAssertThrowsError(try jobs.cancel(accountID: account, id: job.id)) {
            XCTAssertEqual($0 as? JobRefusal, .conflict("Job \(job.id) is Cancelled; only a Pending or Processing job can be cancelled"))
        }
        let again = try jobs.retry(accountID: account, id: job.id)
        XCTAssertNotEqual(again.id, job.id)
        XCTAssertEqual(again.url, job.url)
        XCTAssertEqual(again.options, job.options)
        XCTAssertEqual(again.jobStatus, .pending)
        XCTAssertThrowsError(try jobs.retry(accountID: account, id: again.id)) {
            XCTAssertEqual($0 as? JobRefusal, .conflict("Job \(again.id) is Pending; only a Failed or Cancelled job can be retried"))
        }
        // A completed job: no cancel, no retry; its file deleted, the job kept.
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        let fetches = FetchService(db: db, storage: storage, clock: time.clock)
        time.now += 1
        XCTAssertTrue(try fetches.markRunning(publicID: again.id, lease: lease))
        XCTAssertEqual(try jobs.get(accountID: account, id: again.id).jobStatus, .processing)
        XCTAssertEqual(try jobs.get(accountID: account, id: again.id).updatedAt, 10_001)
        time.now += 1
        XCTAssertTrue(try fetches.updateProgress(publicID: again.id, jobID: lease.job.id, leaseToken: lease.job.leaseToken ?? "",
                                                 FetchProgress(step: .downloading, percent: 40)))
        XCTAssertEqual(try jobs.get(accountID: account, id: again.id).updatedAt, 10_002)
        let key = FetchService.storageKey(publicID: again.id, ext: "m4a")
        let temp = scratch.temporaryPath()
        FileManager.default.createFile(atPath: temp, contents: Data("audio".utf8))
        try storage.put(temporaryPath: temp, key: key)
        time.now += 1
        XCTAssertTrue(try queue.complete(lease) {
            XCTAssertTrue(try fetches.succeed(publicID: again.id, FetchedMedia(storageKey: key, filename: "Song.m4a", sizeBytes: 5,
                                                                               contentType: "audio/mp4", title: "t", extractor: nil,
                                                                               duration: nil, ffprobe: nil)))
        })
        let done = try jobs.get(accountID: account, id: again.id)
        XCTAssertEqual(done.jobStatus, .completed)
        XCTAssertEqual(done.updatedAt, 10_003)
        XCTAssertThrowsError(try jobs.cancel(accountID: account, id: done.id)) { XCTAssertNotNil($0 as? JobRefusal) }
        XCTAssertThrowsError(try jobs.retry(accountID: account, id: done.id)) { XCTAssertNotNil($0 as? JobRefusal) }
        let usage = try jobs.usage(accountID: account)
        XCTAssertEqual(usage.counts, [.pending: 0, .processing: 0, .completed: 1, .failed: 0, .cancelled: 1])
        XCTAssertEqual([usage.active, usage.bytesStored, Int64(usage.cap)], [0, 5, 500])
        time.now += 1
        let kept = try jobs.deleteFile(accountID: account, id: done.id)
        XCTAssertEqual(kept.jobStatus, .completed)
        XCTAssertNil(kept.storageKey)
        XCTAssertEqual(kept.updatedAt, 10_004)
        XCTAssertNil(try storage.attributes(key: key))
        XCTAssertThrowsError(try jobs.deleteFile(accountID: account, id: done.id)) {
            XCTAssertEqual($0 as? DomainError, .notFound("Job \(done.id) has no stored file"))
        }
        XCTAssertEqual(try jobs.usage(accountID: account).bytesStored, 0)
        // A failure that is not a cancel is Failed.
        let failing = try create()
        try db.write { try fetches.fail(publicID: failing.id, code: "network", message: "down", final: true) }
        XCTAssertEqual(try jobs.get(accountID: account, id: failing.id).jobStatus, .failed)
        XCTAssertEqual(try jobs.list(accountID: account, status: .failed, batchID: nil, limit: 10, after: nil).jobs.map(\.id), [failing.id])
        XCTAssertEqual(try jobs.list(accountID: account, status: .cancelled, batchID: nil, limit: 10, after: nil).jobs.map(\.id), [job.id])
    }

    func testFetchesOfTheOtherDialectsCarryTheirOrigin() throws {
        let fetches = FetchService(db: db, storage: storage, clock: time.clock)
        XCTAssertEqual(try fetches.create(accountID: account, url: url, quality: .best, webhookURL: nil).origin, .fetch)
        XCTAssertEqual(try fetches.create(accountID: account, url: url, quality: .best, webhookURL: nil, origin: .downloader).origin, .downloader)
        XCTAssertEqual(try create().origin, .jobs)
        // A row written before migration 11 (origin NULL) reads as a fetch of seed 000.
        try db.execute("UPDATE fetches SET origin = NULL")
        XCTAssertEqual(try jobs.list(accountID: account, status: nil, batchID: nil, limit: 10, after: nil).jobs.map(\.origin),
                       [.fetch, .fetch, .fetch])
    }

    /// Stored bytes add up exactly past 2^53 (PostgreSQL's SUM of integers is `numeric`, which
    /// would read back through a Double).
    func testUsageAddsBytesExactly() throws {
        let big = Int64(1) << 53
        for (n, (size, inBucket)) in [(big, false), (Int64(1), false), (Int64(7), true)].enumerated() {
            try db.execute("""
                INSERT INTO fetches (public_id, account_id, url, quality, status, size_bytes, storage_key, object_key, created_at)
                VALUES (?, ?, ?, 'best', 'success', ?, ?, ?, 1)
                """, ["sum-\(n)", account, url, size, inBucket ? nil : "k\(n)", inBucket ? "o\(n)" : nil])
        }
        let usage = try jobs.usage(accountID: account)
        XCTAssertEqual([usage.bytesStored, usage.bucketBytes], [big + 1, 7])
    }

    /// `GET /jobs` reads along an index in id order whatever the filter, with no sort of its own,
    /// so a page costs what the first costs at 1 M rows. Measured here on 1 M rows, a tenth of them this account's.
    func testListReadsAlongAnIndexAtAMillionRows() throws {
        let other = try makeAccount("Other").0.id
        try db.write {
            try db.execute("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
                INSERT INTO fetches (public_id, account_id, url, quality, status, step, origin, batch_id, created_at, updated_at)
                SELECT 'id-' || i, CASE WHEN i % 10 = 0 THEN CAST(? AS INTEGER) ELSE CAST(? AS INTEGER) END, 'https://example.com/v', 'best', CASE WHEN i % 3 = 0 THEN 'success' ELSE 'failed' END, NULL,
                    'jobs', 'batch-' || (i / 100), 1, 1 FROM n
                """, [account, other])
        }
        let cases: [(Fetch.JobStatus?, String?, String?, String)] = [
            (nil, nil, nil, "fetches_account"), (nil, nil, "500000", "fetches_account"),
            (.completed, nil, "900000", "fetches_account_status"), (.failed, nil, nil, "fetches_account_status"),
            (nil, "batch-4000", nil, "fetches_account_batch"), (.completed, "batch-4000", "400050", "fetches_account_batch"),
            (.cancelled, "batch-4000", nil, "fetches_account_batch"),
        ]
        for (status, batch, after, index) in cases {
            let (sql, arguments) = try JobService.listQuery(accountID: account, status: status, batchID: batch, limit: 200, after: after)
            let plan = try queryPlan(sql, arguments)
            if DomainTestCase.server == nil {
                XCTAssertTrue(plan.contains("USING INDEX \(index)") || plan.contains("USING COVERING INDEX \(index)"), "\(status as Any) \(batch as Any): \(plan)")
                XCTAssertFalse(plan.contains("TEMP B-TREE"), plan)
                XCTAssertFalse(plan.hasPrefix("SCAN fetches") && !plan.contains("INDEX"), plan)
            } else {
                // PostgreSQL's planner picks its own index (often the primary key, filtering by account):
                // what matters holds, an index scan in id order, no sort and no sequential scan.
                XCTAssertTrue(plan.contains("Index Scan Backward using fetches_"), "\(status as Any) \(batch as Any): \(plan)")
                XCTAssertFalse(plan.contains("Sort"), plan)
                XCTAssertFalse(plan.contains("Seq Scan"), plan)
            }
        }
        func page(_ after: String?) throws -> Double {
            let started = Date()
            for _ in 0..<20 { _ = try jobs.list(accountID: account, status: nil, batchID: nil, limit: 200, after: after) }
            return Date().timeIntervalSince(started) / 20
        }
        let first = try page(nil), deep = try page("10000")
        let deepPage = try jobs.list(accountID: account, status: nil, batchID: nil, limit: 200, after: "10000")
        XCTAssertEqual(deepPage.jobs.count, 200)
        XCTAssertEqual(deepPage.jobs.first?.id, "id-9990")
        XCTAssertEqual(deepPage.jobs.last?.id, "id-8000")
        print("GET /jobs page of 200 at 1 M rows: first \(Int(first * 1e6)) µs, near the end \(Int(deep * 1e6)) µs")
    }
}
