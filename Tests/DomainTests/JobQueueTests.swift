import XCTest
import Domain
import Foundation
import Store
import Synchronization

final class JobQueueTests: DomainTestCase {
    func testClaimLeaseFenceAndReap() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        let id = try queue.enqueue(kind: "k", payload: "p")
        let first = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 30))
        XCTAssertEqual(first.id, id)
        XCTAssertEqual(first.attempts, 1)
        XCTAssertNil(try queue.claim(kinds: ["k"], leaseSeconds: 30)) // leased
        XCTAssertNil(try queue.claim(kinds: ["other"], leaseSeconds: 30))
        XCTAssertTrue(try queue.heartbeat(first, leaseSeconds: 30))
        // The worker dies: after the lease runs out the job is claimed again.
        t.now += 31
        let second = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 30))
        XCTAssertEqual(second.attempts, 2)
        XCTAssertNotEqual(second.leaseToken, first.leaseToken)
        // The first holder is fenced out.
        XCTAssertFalse(try queue.heartbeat(first, leaseSeconds: 30))
        XCTAssertFalse(try queue.complete(first))
        XCTAssertTrue(try queue.complete(second))
        XCTAssertEqual(try queue.get(id: id)?.state, .done)
    }

    func testRetryBackoffAndFinalFailure() throws {
        let t = TestTime(0)
        let queue = JobQueue(db: db, clock: t.clock)
        let id = try queue.enqueue(kind: "k", payload: "p", maxAttempts: 2)
        let a = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10))
        XCTAssertTrue(try queue.fail(a, error: "smtp down", retryable: true))
        XCTAssertEqual(try queue.get(id: id)?.state, .queued)
        XCTAssertNil(try queue.claim(kinds: ["k"], leaseSeconds: 10)) // backing off
        t.now += JobQueue.backoff(attempt: 1)
        let b = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10))
        XCTAssertTrue(try queue.fail(b, error: "still down", retryable: true))
        XCTAssertEqual(try queue.get(id: id)?.state, .failed) // attempts used up
        XCTAssertEqual(try queue.get(id: id)?.lastError, "still down")
    }

    func testCompleteRunsEffectsAtomically() throws {
        let queue = JobQueue(db: db)
        try queue.enqueue(kind: "k", payload: "p")
        let job = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10))
        struct Boom: Error {}
        XCTAssertThrowsError(try queue.complete(job) { throw Boom() })
        XCTAssertEqual(try queue.get(id: job.id)?.state, .running) // rolled back with the effect
        XCTAssertEqual(JobQueue.backoff(attempt: 30), 600)
    }

    func testFailRunsEffectsOnlyWhileTheLeaseHolds() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        try queue.enqueue(kind: "k", payload: "p", maxAttempts: 2)
        let first = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10))
        var told: [Bool] = []
        XCTAssertTrue(try queue.fail(first, error: "down", retryable: true) { told.append($0) })
        t.now += JobQueue.backoff(attempt: 1)
        let second = try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10))
        // The first holder, fenced out, tells the subject nothing.
        XCTAssertFalse(try queue.fail(first, error: "late", retryable: false) { told.append($0) })
        XCTAssertTrue(try queue.fail(second, error: "down again", retryable: true) { told.append($0) })
        XCTAssertEqual(told, [false, true]) // retried, then final (attempts used up)
        XCTAssertEqual(try queue.get(id: second.id)?.lastError, "down again")
    }

    // MARK: lanes

    /// An email queued behind a backlog of probes (older, and due earlier) is the short lane's
    /// next claim; the long lane never takes it, and the short lane never takes a probe.
    func testShortLaneClaimsPastALongBacklog() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        var probes: [Int64] = []
        for i in 0..<300 {
            probes.append(try queue.enqueue(kind: FileProbeJob.name, payload: "file_\(i)", runAt: 900 + Int64(i % 50)))
        }
        try queue.enqueue(kind: FileImportJob.name, payload: "file_import")
        let email = try queue.enqueue(kind: OrderEmailJob.name, payload: "{}")

        let longKinds = [FileProbeJob.name, FileImportJob.name], shortKinds = [OrderEmailJob.name]
        let long = try XCTUnwrap(queue.claim(kinds: longKinds, leaseSeconds: 30))
        XCTAssertEqual(long.id, probes[0], "oldest due first within a lane")
        let short = try XCTUnwrap(queue.claim(kinds: shortKinds, leaseSeconds: 30))
        XCTAssertEqual(short.id, email)
        XCTAssertNil(try queue.claim(kinds: shortKinds, leaseSeconds: 30), "the short lane never runs a probe")

        // The long lane drains its backlog without ever seeing the email.
        var claimed = [long.id]
        while let job = try queue.claim(kinds: longKinds, leaseSeconds: 30) {
            XCTAssertNotEqual(job.kind, OrderEmailJob.name)
            claimed.append(job.id)
        }
        XCTAssertEqual(claimed.count, 301)
        XCTAssertEqual(Set(claimed).count, 301)

        // A short job whose worker died is reclaimed by its own lane, not by the long one.
        t.now += 31
        XCTAssertNotEqual(try queue.claim(kinds: longKinds, leaseSeconds: 30)?.kind, OrderEmailJob.name)
        let again = try XCTUnwrap(queue.claim(kinds: shortKinds, leaseSeconds: 30))
        XCTAssertEqual(again.id, email)
        XCTAssertEqual(again.attempts, 2)
        XCTAssertFalse(try queue.complete(short), "the first holder is fenced out")
        XCTAssertTrue(try queue.complete(again))
    }

    // MARK: concurrent claimers

    /// Eight workers, each on its own connection, drain 200 jobs: each job is claimed and
    /// completed exactly once, and no claim fails (on PostgreSQL they pass over each other's
    /// locked rows instead of failing each other's serializable transactions).
    func testConcurrentClaimersTakeEachJobOnce() throws {
        let queue = JobQueue(db: db)
        var ids: [Int64] = []
        for i in 0..<200 { ids.append(try queue.enqueue(kind: "k", payload: "job \(i)")) }
        let claimed = Mutex<[Int64]>([])
        let errors = claimersAtOnce(8) { queue in
            while let job = try queue.claim(kinds: ["k"], leaseSeconds: 60) {
                guard try queue.complete(job) else { throw Lost(id: job.id) }
                claimed.withLock { $0.append(job.id) }
            }
        }
        XCTAssertEqual(errors, [])
        XCTAssertEqual(claimed.withLock { $0 }.sorted(), ids)
        XCTAssertEqual(try db.queryOne("SELECT COUNT(*) AS n FROM jobs WHERE state = 'done' AND attempts = 1")?.int("n"), 200)
    }

    /// Eight workers claim at the same moment from ten due jobs of one account with a cap of
    /// two: exactly two run, round after round (each round's two completed first). Two claimers
    /// counting the same running jobs and both claiming would make three.
    func testPerAccountCapHoldsUnderConcurrentClaimers() throws {
        let account = try makeAccount().0.id
        let queue = JobQueue(db: db)
        for i in 0..<10 { try queue.enqueue(kind: "capped", payload: "job \(i)", accountID: account) }
        for round in 0..<5 {
            let claimed = Mutex<[Job]>([])
            let errors = claimersAtOnce(8) { queue in
                if let job = try queue.claim(kinds: ["capped"], leaseSeconds: 60, perAccountCap: 2) { claimed.withLock { $0.append(job) } }
            }
            XCTAssertEqual(errors, [], "round \(round)")
            let jobs = claimed.withLock { $0 }
            XCTAssertEqual(jobs.count, 2, "round \(round)")
            XCTAssertEqual(try db.queryOne("SELECT COUNT(*) AS n FROM jobs WHERE state = 'running'")?.int("n"), 2, "round \(round)")
            for job in jobs { XCTAssertTrue(try queue.complete(job)) }
        }
        XCTAssertEqual(try db.queryOne("SELECT COUNT(*) AS n FROM jobs WHERE state = 'done'")?.int("n"), 10)
    }

    private struct Lost: Error { let id: Int64 }

    /// Runs `body` on `count` threads of their own, each with a queue on a connection of its own,
    /// all starting together once every connection is open; returns what they threw.
    private func claimersAtOnce(_ count: Int, _ body: @escaping @Sendable (JobQueue) throws -> Void) -> [String] {
        let url = databaseURL
        let gate = NSCondition(), errors = Mutex<[String]>([])
        nonisolated(unsafe) var waiting = count
        let done = DispatchGroup()
        for _ in 0..<count {
            done.enter()
            Thread {
                defer { done.leave() }
                let queue = Result { JobQueue(db: try Databases.open(url: url)) }
                gate.lock()
                waiting -= 1
                if waiting == 0 { gate.broadcast() }
                while waiting > 0 { gate.wait() }
                gate.unlock()
                do { try body(queue.get()) } catch { errors.withLock { $0.append("\(error)") } }
            }.start()
        }
        done.wait()
        return errors.withLock { $0 }
    }
}

/// A clock tests move by hand.
final class TestTime: @unchecked Sendable {
    var now: Int64
    init(_ now: Int64) { self.now = now }
    var clock: Clock { Clock { [unowned self] in self.now } }
}
