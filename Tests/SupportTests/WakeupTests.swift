import Foundation
@testable import Support
import XCTest

/// The worker's wake socket: a nudge from another process ends a wait at once; no nudge, the
/// wait ends at its time; a nudge that came before the wait began is not lost.
final class WakeupTests: XCTestCase {
    var path = ""

    override func setUp() {
        path = NSTemporaryDirectory() + "wake-\(UUID().uuidString.prefix(8)).sock"
    }

    override func tearDown() { unlink(path) }

    func testANudgeEndsTheWait() throws {
        let wakeup = try Wakeup(path: path)
        defer { wakeup.stop() }
        let sender = try XCTUnwrap(WakeSender(path: path))
        var seen = wakeup.current
        let nudger = WorkerThread {
            usleep(100_000)
            sender.send()
        }
        let started = Date()
        XCTAssertTrue(wakeup.wait(milliseconds: 10_000, since: &seen))
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        nudger.join()
    }

    func testWithoutANudgeTheWaitEndsAtItsTime() throws {
        let wakeup = try Wakeup(path: path)
        defer { wakeup.stop() }
        var seen = wakeup.current
        XCTAssertFalse(wakeup.wait(milliseconds: 50, since: &seen))
    }

    func testANudgeBeforeTheWaitIsNotLost() throws {
        let wakeup = try Wakeup(path: path)
        defer { wakeup.stop() }
        var seen = wakeup.current
        try XCTUnwrap(WakeSender(path: path)).send()
        // The reader thread counts it; the wait that starts afterwards returns at once.
        XCTAssertTrue(wakeup.wait(milliseconds: 10_000, since: &seen))
    }

    func testSendingWithNoListenerIsHarmless() throws {
        try XCTUnwrap(WakeSender(path: path)).send()
    }
}
