import XCTest
import Domain
import Foundation
import Store
import TestSupport

/// Queue claims on a real PostgreSQL 15 (tests/support/pgcluster.sh) against row locks that
/// other transactions hold: a claim passes over a job another transaction has locked instead
/// of waiting for it, and is not put off by the weaker lock a foreign key check takes.
final class JobQueuePostgresIntegrationTests: PostgresClusterTestCase {
    /// A migrated empty database, a queue on it, and the ids of two due jobs (the first older).
    private func twoJobs(_ name: String, accountID: Bool = false) throws -> (url: String, queue: JobQueue, first: Int64, second: Int64) {
        let url = try Self.cluster.freshDatabase(name)
        let db = try Databases.open(url: url)
        try Schema.migrate(db)
        var account: Int64?
        if accountID { account = try AccountService(db: db, clock: .fixed(1_000)).create(.init(name: "Shop")).0.id }
        let queue = JobQueue(db: db, clock: .fixed(1_000))
        let first = try queue.enqueue(kind: "k", payload: "first", accountID: account, runAt: 900)
        let second = try queue.enqueue(kind: "k", payload: "second", accountID: account, runAt: 950)
        return (url, queue, first, second)
    }

    /// Another connection holds `statement` (taking a lock on a row) in an open transaction
    /// while `claim` runs; the holder ends its transaction when the claim has returned, or after
    /// 20 s. Returns what the claim returned, and whether the holder was still open then.
    private func claim(while statement: String, _ arguments: [any SQLBindable], on url: String,
                       _ claim: () throws -> Job?) throws -> (job: Job?, holderStillOpen: Bool, seconds: Double) {
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), ended = DispatchSemaphore(value: 0)
        let holderEnded = Flag(), holderError = Flag()
        Thread {
            defer { ended.signal() }
            do {
                let other = try Databases.open(url: url)
                try other.transaction(immediate: true) {
                    _ = try other.query(statement, arguments)
                    locked.signal()
                    _ = release.wait(timeout: .now() + 20)
                    holderEnded.set()
                    throw Rollback()
                }
            } catch is Rollback {
            } catch {
                holderError.set()
                locked.signal()
            }
        }.start()
        locked.wait()
        XCTAssertFalse(holderError.isSet, "the holder could not take its lock")
        let start = Date()
        let job = try claim()
        let seconds = Date().timeIntervalSince(start)
        let stillOpen = !holderEnded.isSet
        release.signal()
        ended.wait()
        return (job, stillOpen, seconds)
    }

    private struct Rollback: Error {}

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// The oldest due job is locked (`SELECT … FOR UPDATE` in another open transaction): the
    /// claim takes the next one at once, before that transaction ends.
    func testClaimPassesOverAJobAnotherTransactionHoldsLocked() throws {
        let (url, queue, first, second) = try twoJobs("claim_skips")
        let result = try claim(while: "SELECT id FROM jobs WHERE id = ? FOR UPDATE", [first], on: url) {
            try queue.claim(kinds: ["k"], leaseSeconds: 60)
        }
        XCTAssertEqual(result.job?.id, second)
        XCTAssertTrue(result.holderStillOpen, "the claim waited for the other transaction (\(result.seconds) s)")
        XCTAssertLessThan(result.seconds, 5)
        // Once the lock is gone the first job is claimable as ever.
        XCTAssertEqual(try queue.claim(kinds: ["k"], leaseSeconds: 60)?.id, first)
    }

    /// The same for a capped claim (which also waits for no other capped claim here).
    func testCappedClaimPassesOverAJobAnotherTransactionHoldsLocked() throws {
        let (url, queue, first, second) = try twoJobs("capped_claim_skips", accountID: true)
        let result = try claim(while: "SELECT id FROM jobs WHERE id = ? FOR UPDATE", [first], on: url) {
            try queue.claim(kinds: ["k"], leaseSeconds: 60, perAccountCap: 2)
        }
        XCTAssertEqual(result.job?.id, second)
        XCTAssertTrue(result.holderStillOpen, "the claim waited for the other transaction (\(result.seconds) s)")
        XCTAssertEqual(try queue.claim(kinds: ["k"], leaseSeconds: 60, perAccountCap: 2)?.id, first)
        XCTAssertNil(try queue.claim(kinds: ["k"], leaseSeconds: 60, perAccountCap: 2))
    }

    /// Another transaction adds a job whose `parent_id` is the oldest due job, and keeps its
    /// transaction open: the foreign key check holds a key-share lock on the parent, which a
    /// claim (`FOR NO KEY UPDATE`) does not conflict with. The parent is claimed, at once.
    func testClaimIsNotPutOffByAForeignKeyCheckOnTheJob() throws {
        let (url, queue, first, _) = try twoJobs("claim_key_share")
        let result = try claim(while: """
            INSERT INTO jobs (kind, payload, parent_id, run_at, created_at) VALUES ('child', 'c', ?, 1000, 1000) RETURNING id
            """, [first], on: url) {
            try queue.claim(kinds: ["k"], leaseSeconds: 60)
        }
        XCTAssertEqual(result.job?.id, first)
        XCTAssertTrue(result.holderStillOpen, "the claim waited for the other transaction (\(result.seconds) s)")
    }
}
