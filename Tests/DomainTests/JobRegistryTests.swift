import XCTest
import Domain
import Store

/// What the test handlers report to, and what they do between steps.
final class JobLog {
    var runs: [StepPayload] = []
    var failures: [(detail: String, retry: JobError.Retry, final: Bool)] = []
    var steps: [Int] = []
    /// Runs after each step of `StepHandler`, before it checks its lease.
    var afterStep: (Int) throws -> Void = { _ in }
}

struct StepPayload: Codable, Equatable, Sendable {
    var steps: Int
    /// nil: succeed; "transient" / "permanent": throw such a `JobError` after the steps.
    var outcome: String?
}

enum StepJob: JobKind {
    typealias Payload = StepPayload
    static let name = "test-steps"
    static let lane = JobLane.long
}

enum QuickJob: JobKind {
    typealias Payload = MediaFileJob
    static let name = "test-quick"
    static let lane = JobLane.short
    static func subject(of payload: MediaFileJob) -> String? { payload.fileID }
}

/// Works in steps, checking its lease between them, as a real handler does.
enum StepHandler: JobHandler {
    typealias Kind = StepJob

    static func run(_ payload: StepPayload, _ lease: JobLease, in log: JobLog) throws {
        log.runs.append(payload)
        for step in 0..<payload.steps {
            log.steps.append(step)
            try log.afterStep(step)
            try lease.check()
        }
        switch payload.outcome {
        case "transient": throw JobError.transient("try later")
        case "permanent": throw JobError.permanent("never")
        default: return
        }
    }

    static func failed(_ payload: StepPayload, _ lease: JobLease, _ error: JobError, final: Bool, in log: JobLog) {
        log.failures.append((error.detail, error.retry, final))
    }
}

enum QuickHandler: JobHandler {
    typealias Kind = QuickJob
    static func run(_ payload: MediaFileJob, _ lease: JobLease, in log: JobLog) throws {}
}

final class JobRegistryTests: DomainTestCase {
    let registry = JobRegistry<JobLog>().register(StepHandler.self).register(QuickHandler.self)

    func run(_ job: Job, _ log: JobLog, queue: JobQueue) -> [String] {
        var lines: [String] = []
        registry.execute(JobLease(job), context: log, queue: queue) { lines.append($0) }
        return lines
    }

    // MARK: registry

    func testRegistryListsItsKindsByLane() {
        XCTAssertEqual(registry.kinds, ["test-steps", "test-quick"])
        XCTAssertEqual(registry.kinds(in: .long), ["test-steps"])
        XCTAssertEqual(registry.kinds(in: .short), ["test-quick"])
        XCTAssertEqual(registry.lane(of: "test-quick"), .short)
        XCTAssertNil(registry.lane(of: "file-probe"))
        // The kinds the services queue, and where they run.
        XCTAssertEqual([OrderEmailJob.name, FileImportJob.name, FileProbeJob.name], ["order-email", "file-import", "file-probe"])
        XCTAssertEqual([OrderEmailJob.lane, FileImportJob.lane, FileProbeJob.lane], [.short, .long, .long])
        XCTAssertEqual(Set(JobLane.all.map(\.name)).count, JobLane.all.count, "lane names are unique")
        XCTAssertTrue(JobLane.all.allSatisfy { $0.defaultThreads >= 1 })
    }

    func testRunsTheKindsHandlerWithItsTypedPayloadAndCompletes() throws {
        let queue = JobQueue(db: db)
        let id = try queue.enqueue(StepJob.self, StepPayload(steps: 2, outcome: nil))
        XCTAssertNil(try queue.claim(kinds: registry.kinds(in: .short), leaseSeconds: 30), "another lane's kind")
        let job = try XCTUnwrap(queue.claim(kinds: registry.kinds(in: .long), leaseSeconds: 30))
        let log = JobLog()
        XCTAssertEqual(run(job, log, queue: queue), [])
        XCTAssertEqual(log.runs, [StepPayload(steps: 2, outcome: nil)])
        XCTAssertEqual(log.steps, [0, 1])
        XCTAssertEqual(try queue.get(id: id)?.state, .done, "a run that returns is completed")
    }

    func testTransientErrorsRetryAndPermanentOnesFailNow() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        let retried = try queue.enqueue(StepJob.self, StepPayload(steps: 0, outcome: "transient"), maxAttempts: 2)
        let log = JobLog()
        XCTAssertEqual(run(try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30)), log, queue: queue),
                       ["job \(retried) (test-steps) attempt 1 failed: try later"])
        XCTAssertEqual(try queue.get(id: retried)?.state, .queued)
        XCTAssertEqual(try queue.get(id: retried)?.runAt, 1000 + JobQueue.backoff(attempt: 1))
        t.now += JobQueue.backoff(attempt: 1)
        _ = run(try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30)), log, queue: queue)
        XCTAssertEqual(try queue.get(id: retried)?.state, .failed, "its attempts are used up")

        let refused = try queue.enqueue(StepJob.self, StepPayload(steps: 0, outcome: "permanent"))
        _ = run(try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30)), log, queue: queue)
        XCTAssertEqual(try queue.get(id: refused)?.state, .failed)
        XCTAssertEqual(try queue.get(id: refused)?.lastError, "never")
        XCTAssertEqual(log.failures.map(\.final), [false, true, true])
        XCTAssertEqual(log.failures.map(\.retry), [.transient, .transient, .permanent])
    }

    func testUnreadablePayloadAndUnknownKindFailForGood() throws {
        let queue = JobQueue(db: db)
        let unreadable = try queue.enqueue(kind: StepJob.name, payload: "{\"steps\": \"many\"}")
        let unknown = try queue.enqueue(kind: "test-unknown", payload: "x")
        let log = JobLog()
        _ = run(try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30)), log, queue: queue)
        let lines = run(try XCTUnwrap(queue.claim(kinds: ["test-unknown"], leaseSeconds: 30)), log, queue: queue)
        XCTAssertEqual(try queue.get(id: unreadable)?.state, .failed)
        XCTAssertTrue(try XCTUnwrap(queue.get(id: unreadable)?.lastError).hasPrefix("unreadable test-steps payload"))
        XCTAssertEqual(try queue.get(id: unknown)?.state, .failed)
        XCTAssertEqual(lines, ["job \(unknown) (test-unknown) attempt 1 failed: no handler for job kind test-unknown"])
        XCTAssertTrue(log.runs.isEmpty && log.failures.isEmpty, "no handler ran, no subject was told")
    }

    // MARK: payloads

    /// Rows queued before payloads were typed hold a file's bare public id, or an order email
    /// as JSON; both decode, and today's encoding writes them the same way.
    func testPayloadsOfRowsQueuedBeforeTypedPayloadsDecode() throws {
        XCTAssertEqual(try JobPayload.decode(MediaFileJob.self, from: "file_AbC123xyz"), MediaFileJob(fileID: "file_AbC123xyz"))
        let old = #"{"to":"bugs@bunny.com","toName":"Bugs Bunny","subject":"Your downloads for order 1001","body":"Hello\nBye\n","orderNumber":"1001"}"#
        let email = try JobPayload.decode(OrderEmail.self, from: old)
        XCTAssertEqual([email.to, email.toName, email.subject, email.body, email.orderNumber],
                       ["bugs@bunny.com", "Bugs Bunny", "Your downloads for order 1001", "Hello\nBye\n", "1001"])
        XCTAssertEqual(try JobPayload.encode(MediaFileJob(fileID: "file_AbC123xyz")), "file_AbC123xyz")
        XCTAssertEqual(try JobPayload.decode(OrderEmail.self, from: JobPayload.encode(email)), email)
        XCTAssertTrue(try JobPayload.encode(email).hasPrefix("{"))
    }

    /// A one-string payload is stored bare unless the bare text would read as JSON; every
    /// text comes back exactly.
    func testOneStringPayloadsRoundTripExactly() throws {
        for text in ["file_x", "", " ", "123", "-1", "true", "null", "\"quoted\"", "[1]", "{}", "a\"b", "ünï", "line\nbreak"] {
            let stored = try JobPayload.encode(MediaFileJob(fileID: text))
            XCTAssertEqual(try JobPayload.decode(MediaFileJob.self, from: stored).fileID, text, "stored as \(stored)")
        }
        XCTAssertEqual(try JobPayload.encode(MediaFileJob(fileID: "123")), "\"123\"")
        XCTAssertEqual(try JobPayload.encode(MediaFileJob(fileID: "a b")), "a b")
        XCTAssertThrowsError(try JobPayload.decode(StepPayload.self, from: "file_x"))
    }

    // MARK: subjects

    func testCancelMatchesTheSubjectNotThePayload() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        let queued = try queue.enqueue(QuickJob.self, MediaFileJob(fileID: "file_a"))
        let running = try queue.enqueue(FileProbeJob.self, MediaFileJob(fileID: "file_a"))
        let other = try queue.enqueue(FileProbeJob.self, MediaFileJob(fileID: "file_b"))
        let samePayloadOtherSubject = try queue.enqueue(kind: "test-text", payload: "file_a")
        let claimed = try XCTUnwrap(queue.claim(kinds: [FileProbeJob.name], leaseSeconds: 30))
        XCTAssertEqual(claimed.id, running)
        XCTAssertEqual(claimed.subjectID, "file_a")
        let lease = JobLease(claimed)

        try queue.cancel(subjectID: "file_a")
        XCTAssertEqual(try queue.get(id: queued)?.state, .cancelled)
        XCTAssertEqual(try queue.get(id: running)?.state, .cancelled)
        XCTAssertEqual(try queue.get(id: other)?.state, .queued)
        XCTAssertEqual(try queue.get(id: samePayloadOtherSubject)?.state, .queued)
        // The running one's heartbeat finds its lease gone: its handler stops.
        XCTAssertFalse(try queue.heartbeat(lease, leaseSeconds: 30))
        XCTAssertTrue(lease.isLost)
        XCTAssertFalse(try queue.complete(lease))
    }

    func testBatchAndParentAreKept() throws {
        let queue = JobQueue(db: db)
        let parent = try queue.enqueue(StepJob.self, StepPayload(steps: 0, outcome: nil), batchID: "batch_1")
        let child = try queue.enqueue(StepJob.self, StepPayload(steps: 1, outcome: nil), batchID: "batch_1", parentID: parent)
        let job = try XCTUnwrap(queue.get(id: child))
        XCTAssertEqual(job.batchID, "batch_1")
        XCTAssertEqual(job.parentID, parent)
        XCTAssertNil(job.subjectID)
        XCTAssertNil(try queue.get(id: parent)?.parentID)
    }

    /// Migration 5 gives file jobs queued before it their subject: deleting the file cancels them.
    func testFileJobsQueuedBeforeMigration5GetTheirSubject() throws {
        let old = try Databases.open(url: emptyDatabaseURL(name: "old"))
        try Migrator.migrate(old, Schema.migrations.filter { $0.version <= 4 }, now: 0)
        let (account, _, _) = try AccountService(db: old, clock: .fixed(1)).create(.init(name: "Shop"))
        try old.execute("""
            INSERT INTO media_files (public_id, account_id, name, source, source_url, status, created_at, updated_at)
            VALUES ('file_old', ?, 'a.mp4', 'url', 'https://example.com/a.mp4', 'pending', 1, 1)
            """, [account.id])
        for (kind, payload) in [("file-import", "file_old"), ("order-email", "{}")] {
            try old.execute("INSERT INTO jobs (account_id, kind, payload, run_at, created_at) VALUES (?, ?, ?, 1, 1)",
                            [account.id, kind, payload])
        }
        XCTAssertEqual(try Schema.migrate(old), Array(5...Schema.migrations.map(\.version).max()!))
        let subjects = try old.query("SELECT kind, subject_id FROM jobs ORDER BY id").map { [$0.string("kind"), $0.string("subject_id")] }
        XCTAssertEqual(subjects, [["file-import", "file_old"], ["order-email", nil]])

        try MediaFileService(db: old, storage: storage).delete(accountID: account.id, id: "file_old")
        let states = try old.query("SELECT state FROM jobs ORDER BY id").map { $0.string("state") }
        XCTAssertEqual(states, ["cancelled", "queued"])
    }

    // MARK: lease loss

    func testHeartbeatMarksALostLeaseAndTheCheckStops() throws {
        let queue = JobQueue(db: db)
        try queue.enqueue(StepJob.self, StepPayload(steps: 1, outcome: nil))
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30)))
        XCTAssertTrue(try queue.heartbeat(lease, leaseSeconds: 30))
        XCTAssertNoThrow(try lease.check())
        try db.execute("UPDATE jobs SET lease_token = 'another worker' WHERE id = ?", [lease.job.id])
        XCTAssertFalse(lease.isLost, "nothing is known before the next beat")
        XCTAssertFalse(try queue.heartbeat(lease, leaseSeconds: 30))
        XCTAssertTrue(lease.isLost)
        XCTAssertThrowsError(try lease.check()) { XCTAssertEqual(($0 as? JobError)?.detail, JobError.leaseLost.detail) }
    }

    /// The lease is stolen while the handler works (its heartbeat, on a connection of its own,
    /// finds it gone): the handler stops at its next check, and nothing is recorded, neither
    /// on the job (the thief's now) nor for its subject.
    func testAHandlerStopsWhenItsLeaseIsLost() throws {
        let queue = JobQueue(db: db)
        let id = try queue.enqueue(StepJob.self, StepPayload(steps: 5, outcome: nil))
        let job = try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30))
        let lease = JobLease(job)
        let heartbeatDB = try Databases.open(url: databaseURL)
        let log = JobLog()
        log.afterStep = { step in
            guard step == 1 else { return }
            try self.db.execute("UPDATE jobs SET lease_token = 'thief', lease_expires_at = 99999999999 WHERE id = ?", [id])
            XCTAssertFalse(try JobQueue(db: heartbeatDB).heartbeat(lease, leaseSeconds: 30))
        }
        var lines: [String] = []
        registry.execute(lease, context: log, queue: queue) { lines.append($0) }
        XCTAssertEqual(log.steps, [0, 1], "stopped at the first check after the loss")
        XCTAssertTrue(log.failures.isEmpty, "the subject is not told anything")
        XCTAssertEqual(lines, ["job \(id) (test-steps) attempt 1 stopped: it lost its lease"])
        let row = try XCTUnwrap(queue.get(id: id))
        XCTAssertEqual(row.state, .running)
        XCTAssertEqual(row.leaseToken, "thief")
        XCTAssertNil(row.lastError)
    }

    /// A handler that never checks still cannot complete: the fencing refuses it, and the
    /// runner says so.
    func testALostLeaseIsNotCompleted() throws {
        let queue = JobQueue(db: db)
        let id = try queue.enqueue(StepJob.self, StepPayload(steps: 0, outcome: nil))
        let job = try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30))
        try db.execute("UPDATE jobs SET lease_token = 'thief' WHERE id = ?", [id])
        XCTAssertEqual(run(job, JobLog(), queue: queue), ["job \(id) (test-steps) lost its lease before completing"])
        XCTAssertEqual(try queue.get(id: id)?.state, .running)
    }
}
