import Dialect
import HTTPCore
import XCTest

final class RouteLinesTests: XCTestCase {
    func testOneLinePerMethodAndAnyForEveryMethod() {
        var router = Router<Int>()
        router.get("/jobs/:id(uuid)", 1)
        router.any("/api/items/:sku/delete", 2)
        router.add(["PATCH"], "/batch/:id(uuid)/jobs", 3)
        XCTAssertEqual(Set(Host.routeLines(router)), ["GET /jobs/:id(uuid)", "HEAD /jobs/:id(uuid)", "ANY /api/items/:sku/delete",
                                                      "PATCH /batch/:id(uuid)/jobs"])
        XCTAssertEqual(Host.routeLines(router).count, 4)
    }
}
