import XCTest
import Domain
import Store
import Foundation

final class WebhookSignatureTests: XCTestCase {
    /// The vector of the Standard Webhooks specification, checked independently with Python:
    ///   import hmac, hashlib, base64
    ///   key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    ///   msg = b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}'
    ///   "v1," + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    ///   → 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
    func testKnownVector() throws {
        XCTAssertEqual(try WebhookSignature.sign(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                                 timestamp: 1614265330, body: #"{"test": 2432232314}"#),
                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    func testEveryPartIsSigned() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let base = try WebhookSignature.sign(secret: secret, id: "msg_a", timestamp: 100, body: "{}")
        XCTAssertNotEqual(try WebhookSignature.sign(secret: secret, id: "msg_b", timestamp: 100, body: "{}"), base)
        XCTAssertNotEqual(try WebhookSignature.sign(secret: secret, id: "msg_a", timestamp: 101, body: "{}"), base)
        XCTAssertNotEqual(try WebhookSignature.sign(secret: secret, id: "msg_a", timestamp: 100, body: "{ }"), base)
        XCTAssertNotEqual(try WebhookSignature.sign(secret: WebhookSignature.newSecret(), id: "msg_a", timestamp: 100, body: "{}"), base)
    }

    func testNewSecretsAreTwentyFourRandomBytes() throws {
        let a = WebhookSignature.newSecret(), b = WebhookSignature.newSecret()
        XCTAssertTrue(a.hasPrefix("whsec_"), a)
        XCTAssertEqual(a.count, 6 + 32)
        XCTAssertEqual(WebhookSignature.key(of: a)?.count, 24)
        XCTAssertNotEqual(a, b)
    }

    func testMalformedSecretsAreRefused() {
        for secret in ["", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_abcde", "whsec_YQ==="] {
            XCTAssertNil(WebhookSignature.key(of: secret), secret)
            XCTAssertThrowsError(try WebhookSignature.sign(secret: secret, id: "msg_a", timestamp: 1, body: "{}"), secret)
        }
    }
}

final class WebhookScheduleTests: XCTestCase {
    func testThePublishedScheduleWithoutJitter() {
        XCTAssertEqual(WebhookSchedule.attempts, 8)
        let delays = (1...7).map { WebhookSchedule.delay(after: $0, jitter: 0) }
        XCTAssertEqual(delays, [5, 300, 1800, 7200, 18000, 36000, 36000])
        XCTAssertNil(WebhookSchedule.delay(after: 8, jitter: 0), "no attempt after the eighth")
        XCTAssertNil(WebhookSchedule.delay(after: 0, jitter: 0))
    }

    func testJitterStaysWithinTenPercent() throws {
        XCTAssertEqual(try XCTUnwrap(WebhookSchedule.delay(after: 2, jitter: 1)), 330, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(WebhookSchedule.delay(after: 2, jitter: -1)), 270, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(WebhookSchedule.delay(after: 2, jitter: 7)), 330, accuracy: 1e-9, "clamped")
        var seen = Set<Double>()
        for _ in 0..<200 {
            let delay = try XCTUnwrap(WebhookSchedule.delay(after: 3))
            XCTAssertGreaterThanOrEqual(delay, 1620)
            XCTAssertLessThanOrEqual(delay, 1980)
            seen.insert(delay)
        }
        XCTAssertGreaterThan(seen.count, 100, "the jitter varies")
    }

    func testScaleMultipliesTheSchedule() throws {
        XCTAssertEqual(try XCTUnwrap(WebhookSchedule.delay(after: 2, scale: 0.01, jitter: 0)), 3, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(WebhookSchedule.delay(after: 7, scale: 0.5, jitter: 0)), 18000, accuracy: 1e-9)
    }
}

final class WebhookServiceTests: DomainTestCase {
    func testTheSecretIsMadeOnFirstUseAndKeptUntilRotated() throws {
        let (account, _, _) = try makeAccount()
        let (other, _, _) = try makeAccount("Other")
        let webhooks = WebhookService(db: db)
        XCTAssertNil(try db.queryOne("SELECT webhook_secret FROM accounts WHERE id = ?", [account.id])?.string("webhook_secret"))
        let first = try webhooks.secret(accountID: account.id)
        XCTAssertNotNil(WebhookSignature.key(of: first))
        XCTAssertEqual(try webhooks.secret(accountID: account.id), first)
        XCTAssertNotEqual(try webhooks.secret(accountID: other.id), first, "one secret per account")
        let rotated = try webhooks.rotate(accountID: account.id)
        XCTAssertNotEqual(rotated, first)
        XCTAssertEqual(try webhooks.secret(accountID: account.id), rotated)
        XCTAssertThrowsError(try webhooks.secret(accountID: 9999)) { XCTAssertEqual($0 as? DomainError, .notFound("no account 9999")) }
        XCTAssertThrowsError(try webhooks.rotate(accountID: 9999))
    }

    func testEnqueueQueuesTheMessageAsAShortJobOfEightAttempts() throws {
        let (account, _, _) = try makeAccount()
        let t = TestTime(5000)
        let message = try WebhookService(db: db, clock: t.clock)
            .enqueue(accountID: account.id, subjectID: "fetch-1", url: "https://example.com/hook", body: #"{"id":"fetch-1"}"#)
        XCTAssertTrue(message.messageID.hasPrefix("msg_"), message.messageID)
        XCTAssertEqual(message.messageID.count, 4 + 24)
        XCTAssertEqual(WebhookJob.name, "webhook.deliver")
        XCTAssertEqual(WebhookJob.lane, .short)
        let job = try XCTUnwrap(JobQueue(db: db, clock: t.clock).claim(kinds: [WebhookJob.name], leaseSeconds: 30))
        XCTAssertEqual(job.maxAttempts, 8)
        XCTAssertEqual(job.accountID, account.id)
        XCTAssertEqual(job.runAt, 5000, "the first attempt goes at once")
        XCTAssertEqual(job.subjectID, message.messageID)
        XCTAssertEqual(try JobPayload.decode(WebhookMessage.self, from: job.payload), message)
        let fields = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(job.payload.utf8)) as? [String: Any])
        XCTAssertEqual(Set(fields.keys), ["account_id", "subject_id", "message_id", "url", "body"])
        XCTAssertEqual(fields["body"] as? String, #"{"id":"fetch-1"}"#)
    }

    func testEnqueueJoinsTheCallersTransaction() throws {
        let (account, _, _) = try makeAccount()
        struct Undo: Error {}
        XCTAssertThrowsError(try db.write {
            try WebhookService(db: db).enqueue(accountID: account.id, subjectID: "s", url: "https://example.com/", body: "{}")
            throw Undo()
        })
        XCTAssertEqual(try db.queryOne("SELECT COUNT(*) AS n FROM jobs")?.int("n"), 0)
    }

    func testDeliveriesOfASubjectInTheOrderTheyWereMade() throws {
        let (account, _, _) = try makeAccount()
        let webhooks = WebhookService(db: db)
        let one = try webhooks.enqueue(accountID: account.id, subjectID: "fetch-1", url: "https://example.com/a", body: "{}")
        let two = try webhooks.enqueue(accountID: account.id, subjectID: "fetch-1", url: "https://example.com/b", body: "{}")
        let elsewhere = try webhooks.enqueue(accountID: account.id, subjectID: "fetch-2", url: "https://example.com/c", body: "{}")
        let a = try webhooks.record(one, attempt: 1, attemptedAt: 10, status: nil, durationMs: 15001, error: "timed out")
        try webhooks.record(elsewhere, attempt: 1, attemptedAt: 11, status: 200, durationMs: 3, error: nil)
        let b = try webhooks.record(one, attempt: 2, attemptedAt: 20, status: 200, durationMs: 12, error: nil)
        let c = try webhooks.record(two, attempt: 1, attemptedAt: 21, status: 410, durationMs: 4, error: "gone")
        XCTAssertEqual(try webhooks.deliveries(subjectID: "fetch-1"), [a, b, c])
        XCTAssertEqual(a.status, nil)
        XCTAssertEqual(a.error, "timed out")
        XCTAssertEqual(b.messageID, one.messageID)
        XCTAssertEqual(c.url, "https://example.com/b")
        XCTAssertEqual(try webhooks.deliveries(subjectID: "fetch-2").map(\.status), [200])
        XCTAssertEqual(try webhooks.deliveries(subjectID: "nothing"), [])
    }
}

/// Reschedules on a time of its own, as the webhook handler does.
enum RescheduleHandler: JobHandler {
    typealias Kind = StepJob
    static func run(_ payload: StepPayload, _ lease: JobLease, in queue: JobQueue) throws {
        try queue.retry(lease, at: 5000 + Int64(payload.steps), error: "later")
    }
}

final class JobQueueRetryTests: DomainTestCase {
    func testRetryRunsAgainAtTheGivenTimeWithoutBackoffUntilAttemptsAreUsedUp() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        let id = try queue.enqueue(kind: "k", payload: "p", maxAttempts: 3)
        var told: [Bool] = []
        let first = JobLease(try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 30)))
        XCTAssertTrue(try queue.retry(first, at: 1003, error: "down") { told.append($0) })
        XCTAssertTrue(first.isCompleted)
        var job = try XCTUnwrap(queue.get(id: id))
        XCTAssertEqual(job.state, .queued)
        XCTAssertEqual(job.runAt, 1003)
        XCTAssertEqual(job.lastError, "down")
        XCTAssertNil(try queue.claim(kinds: ["k"], leaseSeconds: 30), "not before its time")
        t.now = 1003
        let second = JobLease(try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 30)))
        XCTAssertEqual(second.job.attempts, 2)
        XCTAssertTrue(try queue.retry(second, at: 1003, error: "down") { told.append($0) })
        let third = JobLease(try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 30)))
        XCTAssertTrue(try queue.retry(third, at: 2000, error: "still down") { told.append($0) })
        job = try XCTUnwrap(queue.get(id: id))
        XCTAssertEqual(job.state, .failed, "three attempts used up")
        XCTAssertEqual(job.lastError, "still down")
        XCTAssertEqual(told, [false, false, true])
    }

    func testRetryWithoutATimeFailsNow() throws {
        let queue = JobQueue(db: db)
        let id = try queue.enqueue(kind: "k", payload: "p", maxAttempts: 8)
        var told: [Bool] = []
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 30)))
        XCTAssertTrue(try queue.retry(lease, at: nil, error: "bad URL") { told.append($0) })
        XCTAssertEqual(try queue.get(id: id)?.state, .failed)
        XCTAssertEqual(told, [true])
    }

    func testRetryIsFencedAndItsEffectsRollBackWithIt() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        let id = try queue.enqueue(kind: "k", payload: "p")
        let stale = JobLease(try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10)))
        t.now += 11
        let current = JobLease(try XCTUnwrap(queue.claim(kinds: ["k"], leaseSeconds: 10)))
        var ran = false
        XCTAssertFalse(try queue.retry(stale, at: 5000, error: "x") { _ in ran = true })
        XCTAssertFalse(ran)
        XCTAssertTrue(stale.isLost)
        XCTAssertEqual(try queue.get(id: id)?.state, .running)
        struct Boom: Error {}
        XCTAssertThrowsError(try queue.retry(current, at: 5000, error: "x") { _ in throw Boom() })
        XCTAssertEqual(try queue.get(id: id)?.state, .running, "rolled back with the effect")
        XCTAssertEqual(try queue.get(id: id)?.runAt, 1000)
    }

    func testTheRegistryLeavesARescheduledJobAlone() throws {
        let t = TestTime(1000)
        let queue = JobQueue(db: db, clock: t.clock)
        let registry = JobRegistry<JobQueue>().register(RescheduleHandler.self)
        let id = try queue.enqueue(StepJob.self, StepPayload(steps: 7, outcome: nil))
        var lines: [String] = []
        registry.execute(JobLease(try XCTUnwrap(queue.claim(kinds: [StepJob.name], leaseSeconds: 30))), context: queue,
                         queue: queue) { lines.append($0) }
        XCTAssertEqual(lines, [])
        XCTAssertEqual(try queue.get(id: id)?.state, .queued)
        XCTAssertEqual(try queue.get(id: id)?.runAt, 5007)
    }
}
