import Dialect
import HTTPCore
@testable import FilesAPI
import XCTest

/// The Files dialect in-process: JSON replies, failures and the method override.
final class FilesAppTests: AppTestCase {
    var app: FilesApp!

    override func setUpWithError() throws {
        try super.setUpWithError()
        app = try FilesApp(context)
    }

    var apiKey: [String: String] { ["x-api-key": token] }

    func json(_ response: Response) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func testUnauthenticatedIs401InJSON() throws {
        let response = app.handle(request("GET", "/files"))
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.header("Content-Type"), "application/json")
        let error = try XCTUnwrap(try json(response)["error"] as? [String: String])
        XCTAssertEqual(error, ["code": "unauthorized", "message": "Send your API key in the X-API-KEY header"])
    }

    func testEmptyListEnvelope() throws {
        let response = app.handle(request("GET", "/files", headers: apiKey))
        XCTAssertEqual(response.status, 200)
        let body = try json(response)
        XCTAssertEqual((body["files"] as? [Any])?.count, 0)
        XCTAssertEqual(body["total"] as? Int, 0)
        XCTAssertEqual(body["page"] as? Int, 1)
        XCTAssertEqual(body["has_more"] as? Bool, false)
    }

    func testUnknownFileIs404AndOtherTenantsAreInvisible() throws {
        let response = app.handle(request("GET", "/files/file_nope", headers: apiKey))
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual((try json(response)["error"] as? [String: String])?["code"], "not_found")
    }

    func testMethodOverrideReachesDelete() throws {
        for override in [("_method=DELETE", [String: String]()), ("", ["x-http-method-override": "DELETE"])] {
            let response = app.handle(request("POST", "/files/file_nope", query: override.0, headers: apiKey.merging(override.1) { a, _ in a }))
            XCTAssertEqual(response.status, 404, "routed as DELETE: \(text(response))")
        }
        let plain = app.handle(request("POST", "/files/file_nope", headers: apiKey))
        XCTAssertEqual(plain.status, 405)
        XCTAssertEqual(plain.header("Allow"), "DELETE, GET, HEAD")
    }

    func testUploadThatIsNotMultipartIs400() throws {
        let response = app.handle(request("POST", "/files", headers: apiKey, body: "a=1", contentType: "application/x-www-form-urlencoded"))
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual((try json(response)["error"] as? [String: String])?["code"], "bad_request")
    }
}
