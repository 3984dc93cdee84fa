import XCTest
@testable import HTTPCore

final class RouterTests: XCTestCase {
    func router() -> Router<String> {
        var r = Router<String>(suffixes: [".xml", ".json"])
        r.any("/api/items/create", "create")
        r.any("/api/items/:sku/delete", "delete")
        r.get("/api/items", "list")
        r.post("/api/items", "create-rest")
        r.get("/api/items/:sku", "show")
        r.put("/api/items/:sku", "update")
        return r
    }

    func found(_ method: String, _ path: String) -> Router<String>.Match? {
        if case .found(let m) = router().match(method: method, path: path) { return m }
        return nil
    }

    func testCommandURIsAnswerEveryMethod() {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            XCTAssertEqual(found(method, "/api/items/create")?.handler, "create", method)
            XCTAssertEqual(found(method, "/api/items/A-1/delete")?.captures["sku"], "A-1", method)
        }
    }

    func testCommandRoutesWinOverCaptures() {
        XCTAssertEqual(found("GET", "/api/items/create")?.handler, "create")
        XCTAssertEqual(found("GET", "/api/items/other")?.handler, "show")
    }

    func testSuffixIsStrippedAndReported() {
        let m = found("GET", "/api/items/BILL-WAX.xml")
        XCTAssertEqual(m?.handler, "show")
        XCTAssertEqual(m?.captures["sku"], "BILL-WAX")
        XCTAssertEqual(m?.format, "xml")
        XCTAssertEqual(found("GET", "/api/items.xml")?.handler, "list")
        XCTAssertNil(found("GET", "/api/items")?.format)
        // A SKU with another dot is untouched.
        XCTAssertEqual(found("GET", "/api/items/file.zip")?.captures["sku"], "file.zip")
    }

    func testOnlyGETRoutesAreReadOnly() {
        XCTAssertEqual(found("GET", "/api/items/x")?.readOnly, true)
        XCTAssertEqual(found("GET", "/api/items/create")?.readOnly, false) // command URI: any method, may write
        XCTAssertEqual(found("PUT", "/api/items/x")?.readOnly, false)
    }

    func testRESTVerbs() {
        XCTAssertEqual(found("POST", "/api/items")?.handler, "create-rest")
        XCTAssertEqual(found("PUT", "/api/items/x")?.handler, "update")
        XCTAssertEqual(found("HEAD", "/api/items")?.handler, "list")
    }

    func testMethodNotAllowedListsAllowed() {
        guard case .methodNotAllowed(let allowed) = router().match(method: "DELETE", path: "/api/items") else {
            return XCTFail("expected 405")
        }
        XCTAssertEqual(allowed, ["GET", "HEAD", "POST"])
    }

    func testNotFound() {
        guard case .notFound = router().match(method: "GET", path: "/api/nothing") else { return XCTFail() }
        guard case .notFound = router().match(method: "GET", path: "/api/items/a/b/c") else { return XCTFail() }
        guard case .notFound = router().match(method: "GET", path: "/") else { return XCTFail() }
    }

    func testTrailingSlashTolerated() {
        XCTAssertEqual(found("GET", "/api/items/")?.handler, "list")
    }
}
