import Foundation
@testable import Store
import XCTest
@testable import Dialect
@testable import HTTPCore

/// The gate's answers before any endpoint runs: an oversize buffered body is 413, one that
/// cannot be read is 400; a busy database is 503 with `Retry-After: 1`.
final class GateBodyTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "gate-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func route(_ request: Request) throws -> Gate.Admission<String> {
        var router = Router<String>()
        router.post("/api/items", "create")
        return try Gate.route(request, router, bodyDirectory: dir, maxBodyBytes: 16, methodOverride: false)
    }

    func post(bodyFile: String) -> Request {
        var request = Request(method: "POST", path: "/api/items", headers: ["content-type": "application/x-www-form-urlencoded"])
        request.bodyFile = bodyFile
        return request
    }

    func testBufferedBodyWithinTheLimitIsReadIn() throws {
        XCTAssertTrue(BodyFile.write(Array("a=1".utf8), to: dir + "/1"))
        let admission = try route(post(bodyFile: dir + "/1"))
        XCTAssertEqual(admission.handler, "create")
        XCTAssertEqual(admission.request.body, Array("a=1".utf8))
        XCTAssertNil(admission.request.bodyFile)
    }

    func testOversizeBodyIs413() {
        XCTAssertTrue(BodyFile.write(Array(repeating: UInt8(ascii: "a"), count: 17), to: dir + "/2"))
        XCTAssertThrowsError(try route(post(bodyFile: dir + "/2"))) { error in
            XCTAssertEqual((error as? Failure)?.status, 413)
        }
        var dropped = Request(method: "POST", path: "/api/items", bodyTooLarge: true)
        dropped.body = []
        XCTAssertThrowsError(try route(dropped)) { XCTAssertEqual(($0 as? Failure)?.status, 413) }
    }

    func testUnreadableBodyIs400() {
        for file in [dir + "/missing", "/etc/hostname"] {
            XCTAssertThrowsError(try route(post(bodyFile: file)), file) { error in
                XCTAssertEqual(error as? Failure, Failure.unreadableBody)
                XCTAssertEqual((error as? Failure)?.status, 400)
            }
        }
    }

    func testBusyDatabaseIs503WithRetryAfter() {
        let busy = Failure(SQLiteError(code: 5, message: "database is locked"))
        XCTAssertEqual(busy.status, 503)
        XCTAssertEqual(busy.retryAfter, 1)
        XCTAssertEqual(busy.headers.map { "\($0.0): \($0.1)" }, ["Retry-After: 1"])
        XCTAssertEqual(Failure(SQLiteError(code: 19, message: "constraint")).status, 500)
        XCTAssertEqual(Failure(SQLiteError(code: 1, message: "syntax")).status, 500)
        XCTAssertEqual(Failure(status: 405, code: "method_not_allowed", message: "no", allow: ["GET", "HEAD"]).headers.map { $0.1 },
                       ["GET, HEAD"])
    }
}
