import XCTest
import Foundation
import HTTPCore
import Support
@testable import Dialect

/// An app that cannot be built until `buildable` is set, with one open route.
final class FlakyApp: App {
    typealias Wire = JSONWire
    static let name = "flaky-api"
    static let buildable = Flag()
    let context: AppContext

    init(_ context: AppContext) throws {
        guard FlakyApp.buildable.isSet else { throw OptionError("no connection today") }
        self.context = context
    }

    static let routes: Routes<FlakyApp> = {
        var r = Routes<FlakyApp>()
        r.open(get: "/ping") { _, _, _ in JSONWire.reply { $0.string("pong") } }
        return r
    }()
}

final class HostTests: XCTestCase {
    /// A thread whose app cannot be built answers 503 (in the dialect's format) instead of
    /// trapping, and builds it at a later request once it can.
    func testThreadWithoutAppAnswers503ThenRecovers() throws {
        let dir = NSTemporaryDirectory() + "host-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let settings = try HostSettings(Arguments(values: ["socket": dir + "/s.sock", "database": dir + "/db.sqlite", "data": dir]))
        let handle = Host.threadHandler(FlakyApp.self, settings)

        let refused = handle(Request(method: "GET", path: "/ping"))
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("Retry-After"), "1")
        XCTAssertEqual(String(decoding: refused.body, as: UTF8.self),
                       #"{"error":{"code":"unavailable","message":"Service temporarily unavailable, retry shortly"}}"#)

        FlakyApp.buildable.set()
        let served = handle(Request(method: "GET", path: "/ping"))
        XCTAssertEqual(served.status, 200)
        XCTAssertEqual(String(decoding: served.body, as: UTF8.self), #""pong""#)
    }

    func testHostOptionsRefuseMalformedNumbers() {
        let table = OptionTable(program: "x-api", options: Host.options)
        XCTAssertThrowsError(try table.parse(["--socket", "s", "--database", "d", "--data", "x", "--max-body", "8m"])) {
            XCTAssertEqual(($0 as? OptionError)?.message, "x-api: --max-body needs a whole number in 1...1073741824, got '8m'")
        }
    }
}
