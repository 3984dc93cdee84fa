import XCTest
import Domain
import Store
import Foundation

final class FetchServiceTests: DomainTestCase {
    var time: TestTime!
    var fetches: FetchService!
    var queue: JobQueue!
    var account: Int64 = 0

    override func setUpWithError() throws {
        try super.setUpWithError()
        time = TestTime(10_000)
        fetches = FetchService(db: db, storage: storage, clock: time.clock)
        queue = JobQueue(db: db, clock: time.clock)
        account = try makeAccount().0.id
    }

    func create(_ url: String = "https://example.com/v", quality: FetchQuality = .best, account: Int64? = nil) throws -> Fetch {
        try fetches.create(accountID: account ?? self.account, url: url, quality: quality, webhookURL: nil)
    }

    /// Stores bytes under the fetch's key and marks it a success, as the worker would.
    func finish(_ fetch: Fetch, lease: JobLease) throws -> String {
        let key = FetchService.storageKey(publicID: fetch.id, ext: "mp4")
        let temp = scratch.temporaryPath()
        FileManager.default.createFile(atPath: temp, contents: Data("video".utf8))
        try storage.put(temporaryPath: temp, key: key)
        XCTAssertTrue(try queue.complete(lease) {
            XCTAssertTrue(try fetches.succeed(publicID: fetch.id, FetchedMedia(
                storageKey: key, filename: "Clip.mp4", sizeBytes: 5, contentType: "video/mp4", title: "Clip",
                extractor: "generic", duration: 1.5, ffprobe: "{}")))
        })
        return key
    }

    func testCreateRecordsPendingAndQueuesItsJobTogether() throws {
        let fetch = try create(quality: .p720)
        XCTAssertEqual(fetch.status, .pending)
        XCTAssertEqual(fetch.step, .queued)
        XCTAssertEqual(fetch.quality, "720p")
        XCTAssertEqual(fetch.createdAt, 10_000)
        XCTAssertNotNil(UUID(uuidString: fetch.id))
        XCTAssertEqual(fetch.id, fetch.id.lowercased())
        let job = try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60))
        XCTAssertEqual(job.payload, fetch.id)
        XCTAssertEqual(job.subjectID, fetch.id)
        XCTAssertEqual(job.accountID, account)
        XCTAssertEqual(job.maxAttempts, 3)
        XCTAssertEqual(MediaFetchJob.lane, .fetch)
        XCTAssertEqual(JobLane.fetch.defaultThreads, 4)
    }

    func testQualityListIsTheOneDefinition() {
        XCTAssertEqual(FetchQuality.valid, "best, 1080p, 720p, 480p, 360p, audio, mp4")
        XCTAssertEqual(try FetchQuality.parse("1080p"), .p1080)
        XCTAssertThrowsError(try FetchQuality.parse("4k")) { error in
            XCTAssertEqual(error as? DomainError, .invalid("quality must be one of: best, 1080p, 720p, 480p, 360p, audio, mp4"))
        }
    }

    func testOtherAccountsFetchIsNotFound() throws {
        let fetch = try create()
        let other = try makeAccount("Other").0.id
        XCTAssertThrowsError(try fetches.get(accountID: other, publicID: fetch.id)) { XCTAssertEqual($0 as? DomainError, .notFound("Fetch \(fetch.id) not found")) }
        XCTAssertThrowsError(try fetches.cancelOrDelete(accountID: other, publicID: fetch.id))
        XCTAssertThrowsError(try fetches.remove(accountID: other, publicID: fetch.id))
        XCTAssertEqual(try fetches.get(accountID: account, publicID: fetch.id).status, .pending)
    }

    func testListNewestFirstByStatusWithCursor() throws {
        let a = try create("https://example.com/a")
        let b = try create("https://example.com/b")
        let c = try create("https://example.com/c")
        _ = try fetches.cancelOrDelete(accountID: account, publicID: b.id)
        let all = try fetches.list(accountID: account, status: nil, page: Page(limit: 2, offset: 0))
        XCTAssertEqual(all.items.map(\.id), [c.id, b.id])
        XCTAssertEqual(all.total, 3)
        XCTAssertTrue(all.hasMore)
        let next = try fetches.list(accountID: account, status: nil, page: Page(limit: 2, offset: 0, after: all.nextCursor))
        XCTAssertEqual(next.items.map(\.id), [a.id])
        XCTAssertFalse(next.hasMore)
        let failed = try fetches.list(accountID: account, status: .failed, page: Page(limit: 10, offset: 0))
        XCTAssertEqual(failed.items.map(\.id), [b.id])
        XCTAssertEqual(failed.total, 1)
        let other = try makeAccount("Other").0.id
        XCTAssertEqual(try fetches.list(accountID: other, status: nil, page: .all).total, 0)
    }

    func testCancelARunningFetchFencesOutItsWorkerThenDeleteRemovesIt() throws {
        let fetch = try create()
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: lease))
        XCTAssertTrue(try fetches.updateProgress(publicID: fetch.id, jobID: lease.job.id, leaseToken: lease.job.leaseToken!,
                                                 FetchProgress(step: .downloading, percent: 40, bytes: 400, totalBytes: 1000,
                                                               speed: 100, eta: 6)))
        let running = try fetches.get(accountID: account, publicID: fetch.id)
        XCTAssertEqual(running.status, .running)
        XCTAssertEqual(running.progress, FetchProgress(step: .downloading, percent: 40, bytes: 400, totalBytes: 1000, speed: 100, eta: 6))
        XCTAssertEqual(running.startedAt, 10_000)

        guard case .cancelled(let cancelled) = try fetches.cancelOrDelete(accountID: account, publicID: fetch.id) else {
            return XCTFail("a running fetch is cancelled, not deleted")
        }
        XCTAssertEqual(cancelled.status, .failed)
        XCTAssertEqual(cancelled.errorCode, "cancelled")
        XCTAssertEqual(try queue.get(id: lease.job.id)?.state, .cancelled)
        // The worker's writes are refused from now on: progress, heartbeat, completion.
        XCTAssertFalse(try fetches.updateProgress(publicID: fetch.id, jobID: lease.job.id, leaseToken: lease.job.leaseToken!,
                                                  FetchProgress(step: .downloading, percent: 90)))
        XCTAssertFalse(try queue.complete(lease) { XCTFail("no effects for a cancelled job") })
        XCTAssertEqual(try fetches.get(accountID: account, publicID: fetch.id).progress.percent, 40)

        XCTAssertEqual(try fetches.cancelOrDelete(accountID: account, publicID: fetch.id), .deleted)
        XCTAssertNil(try fetches.get(publicID: fetch.id))
    }

    func testProgressNeedsTheCurrentLease() throws {
        let fetch = try create()
        let first = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 30)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: first))
        time.now += 31 // the worker died; another claims the job
        let second = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 30)))
        XCTAssertFalse(try fetches.updateProgress(publicID: fetch.id, jobID: first.job.id, leaseToken: first.job.leaseToken!,
                                                  FetchProgress(step: .merging)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: second))
        XCTAssertTrue(try fetches.updateProgress(publicID: fetch.id, jobID: second.job.id, leaseToken: second.job.leaseToken!,
                                                 FetchProgress(step: .merging)))
        XCTAssertFalse(try fetches.markRunning(publicID: fetch.id, lease: first))
        XCTAssertEqual(try fetches.get(publicID: fetch.id)?.step, .merging)
    }

    func testSucceedThenDeleteRemovesRecordAndBytes() throws {
        let fetch = try create()
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: lease))
        time.now += 5
        let key = try finish(fetch, lease: lease)
        XCTAssertEqual(key, "f/\(fetch.id).mp4")
        let done = try fetches.get(accountID: account, publicID: fetch.id)
        XCTAssertEqual(done.status, .success)
        XCTAssertEqual(done.step, .done)
        XCTAssertEqual(done.filename, "Clip.mp4")
        XCTAssertEqual(done.finishedAt, 10_005)
        XCTAssertEqual(done.progress.percent, 100)
        XCTAssertNotNil(try storage.attributes(key: key))
        XCTAssertEqual(try fetches.cancelOrDelete(accountID: account, publicID: fetch.id), .deleted)
        XCTAssertNil(try fetches.get(publicID: fetch.id))
        XCTAssertNil(try storage.attributes(key: key))
    }

    func testFailRetryThenFinal() throws {
        let fetch = try create()
        let a = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: a))
        XCTAssertTrue(try queue.fail(a.job, error: "network", retryable: true) { final in
            XCTAssertFalse(final)
            try fetches.fail(publicID: fetch.id, code: "network", message: "The origin could not be reached", final: final)
        })
        var now = try fetches.get(accountID: account, publicID: fetch.id)
        XCTAssertEqual(now.status, .pending)
        XCTAssertEqual(now.step, .queued)
        XCTAssertEqual(now.errorCode, "network")
        XCTAssertNil(now.finishedAt)
        time.now += 100
        let b = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: b))
        XCTAssertTrue(try queue.fail(b.job, error: "gone", retryable: false) { final in
            XCTAssertTrue(final)
            try fetches.fail(publicID: fetch.id, code: "unavailable", message: "Video unavailable", final: final)
        })
        now = try fetches.get(accountID: account, publicID: fetch.id)
        XCTAssertEqual(now.status, .failed)
        XCTAssertEqual(now.errorCode, "unavailable")
        XCTAssertEqual(now.errorMessage, "Video unavailable")
        XCTAssertEqual(now.finishedAt, 10_100)
    }

    func testRemoveCancelsAndDeletesWhateverTheState() throws {
        let pending = try create()
        try fetches.remove(accountID: account, publicID: pending.id)
        XCTAssertNil(try fetches.get(publicID: pending.id))
        XCTAssertNil(try queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60), "its job was cancelled")
        XCTAssertThrowsError(try fetches.remove(accountID: account, publicID: pending.id))
    }

    func testPerAccountCapInTheClaim() throws {
        let other = try makeAccount("Other").0.id
        for _ in 0..<5 { _ = try create() }
        let theirs = try create(account: other)
        let kinds = [MediaFetchJob.name]
        let one = try XCTUnwrap(queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 2))
        let two = try XCTUnwrap(queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 2))
        XCTAssertEqual([one.accountID, two.accountID], [account, account])
        // The account has two running: its three others wait; the other account's job is claimable.
        let third = try XCTUnwrap(queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 2))
        XCTAssertEqual(third.payload, theirs.id)
        XCTAssertNil(try queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 2))
        // Without a cap (other lanes) nothing changes.
        XCTAssertNotNil(try queue.claim(kinds: kinds, leaseSeconds: 60))
        // A finished job frees a place; so does an expired lease (its job is claimable again, as itself).
        XCTAssertNil(try queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 3))
        XCTAssertTrue(try queue.complete(one))
        XCTAssertNotNil(try queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 3))
        XCTAssertNil(try queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 3))
        time.now += 61
        XCTAssertNotNil(try queue.claim(kinds: kinds, leaseSeconds: 60, perAccountCap: 1))
    }

    func testExpireRemovesOnlyOldFinishedFetchesAndTheirBytes() throws {
        let old = try create("https://example.com/old")
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertTrue(try fetches.markRunning(publicID: old.id, lease: lease))
        let key = try finish(old, lease: lease)
        let cancelled = try create("https://example.com/cancelled")
        _ = try fetches.cancelOrDelete(accountID: account, publicID: cancelled.id)
        let waiting = try create("https://example.com/waiting")
        time.now += 86_400
        let recent = try create("https://example.com/recent")
        _ = try fetches.cancelOrDelete(accountID: account, publicID: recent.id)

        XCTAssertEqual(try fetches.expire(olderThan: 10_001), [key])
        XCTAssertNil(try fetches.get(publicID: old.id))
        XCTAssertNil(try fetches.get(publicID: cancelled.id))
        XCTAssertNil(try storage.attributes(key: key))
        XCTAssertEqual(try fetches.get(publicID: waiting.id)?.status, .pending, "never expires while queued")
        XCTAssertEqual(try fetches.get(publicID: recent.id)?.status, .failed)
        XCTAssertEqual(try fetches.expire(olderThan: 10_001), [])
    }

    func testNames() {
        XCTAssertEqual(FetchService.storageKey(publicID: "abc", ext: "MP4"), "f/abc.mp4")
        XCTAssertEqual(FetchService.storageKey(publicID: "abc", ext: "../x"), "f/abc")
        XCTAssertEqual(FetchService.filename(title: "My/Clip\u{1}: é", ext: "webm"), "My_Clip: é.webm")
        XCTAssertEqual(FetchService.filename(title: nil, ext: "mp4"), "download.mp4")
        XCTAssertEqual(FetchService.filename(title: String(repeating: "a", count: 300), ext: "m4a").utf8.count, 204)
    }
}
