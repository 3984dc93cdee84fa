import HTTPCore
import XCTest

final class RouterListingTests: XCTestCase {
    func testRoutesListEveryRouteAsWritten() {
        var router = Router<String>(suffixes: [".xml"])
        router.get("/fetch/:id(uuid)/:name", "download")
        router.post("/fetch", "create")
        router.any("/api/items/:sku/delete", "delete")
        router.get("/fetch/metadata", "metadata")
        router.delete("/fetch/:id(uuid)", "remove")
        let listed = router.routes.map { "\($0.methods?.joined(separator: ",") ?? "*") \($0.pattern)" }
        XCTAssertEqual(Set(listed), ["GET,HEAD /fetch/:id(uuid)/:name", "POST /fetch", "* /api/items/:sku/delete",
                                     "GET,HEAD /fetch/metadata", "DELETE /fetch/:id(uuid)"])
        XCTAssertEqual(listed.count, 5)
        // Matching order: by length, then the literal before the capture.
        XCTAssertEqual(router.routes.map(\.pattern).firstIndex(of: "/fetch/metadata")! <
                       router.routes.map(\.pattern).firstIndex(of: "/fetch/:id(uuid)")!, true)
    }

    func testRootAndEmptyRouter() {
        XCTAssertEqual(Router<String>().routes, [])
        var router = Router<String>()
        router.get("/", "root")
        XCTAssertEqual(router.routes.map(\.pattern), ["/"])
        XCTAssertEqual(router.routes.map(\.methods), [["GET", "HEAD"]])
    }
}
