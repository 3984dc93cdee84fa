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

    /// A literal segment beats a capture, in either order of registration.
    func testLiteralBeatsCaptureWhateverTheOrder() {
        let routes: [(Router<String>) -> Router<String>] = [
            { var r = $0; r.any("/api/items/create", "create"); return r },
            { var r = $0; r.any("/api/items/:sku/delete", "delete"); return r },
            { var r = $0; r.any("/api/items/:sku/:verb", "verb"); return r },
            { var r = $0; r.any("/api/:kind/create", "kind-create"); return r },
            { var r = $0; r.get("/api/items/:sku", "show"); return r },
            { var r = $0; r.get("/api/:kind/:id", "generic"); return r },
        ]
        for order in [Array(routes.indices), Array(routes.indices.reversed())] {
            var r = Router<String>(suffixes: [".xml"])
            for i in order { r = routes[i](r) }
            func handler(_ method: String, _ path: String) -> String? {
                if case .found(let m) = r.match(method: method, path: path) { return m.handler }
                return nil
            }
            XCTAssertEqual(handler("GET", "/api/items/create"), "create", "order \(order)")
            XCTAssertEqual(handler("POST", "/api/items/create.xml"), "create", "order \(order)")
            XCTAssertEqual(handler("GET", "/api/items/A-1"), "show", "order \(order)")
            XCTAssertEqual(handler("GET", "/api/orders/create"), "kind-create", "order \(order)")
            XCTAssertEqual(handler("GET", "/api/orders/7"), "generic", "order \(order)")
            XCTAssertEqual(handler("GET", "/api/items/A-1/delete"), "delete", "order \(order)")
            XCTAssertEqual(handler("GET", "/api/items/A-1/update"), "verb", "order \(order)")
            // No route of that shape takes POST: 405, not a fall-through to another shape.
            XCTAssertEqual(handler("POST", "/api/orders/7"), nil, "order \(order)")
        }
    }

    func testLiteralRouteRefusingTheMethodFallsBackToACapture() {
        for reversed in [false, true] {
            var r = Router<String>()
            let adds: [(inout Router<String>) -> Void] = [{ $0.post("/files/import", "import") }, { $0.get("/files/:id", "show") }]
            for add in reversed ? adds.reversed() : adds { add(&r) }
            guard case .found(let get) = r.match(method: "GET", path: "/files/import") else { return XCTFail() }
            XCTAssertEqual(get.handler, "show")
            guard case .found(let post) = r.match(method: "POST", path: "/files/import") else { return XCTFail() }
            XCTAssertEqual(post.handler, "import")
            guard case .methodNotAllowed(let allowed) = r.match(method: "DELETE", path: "/files/import") else { return XCTFail() }
            XCTAssertEqual(allowed, ["GET", "HEAD", "POST"])
        }
    }

    func testSuffixIsStripped() {
        let m = found("GET", "/api/items/BILL-WAX.xml")
        XCTAssertEqual(m?.handler, "show")
        XCTAssertEqual(m?.captures["sku"], "BILL-WAX")
        XCTAssertEqual(found("GET", "/api/items.xml")?.handler, "list")
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
