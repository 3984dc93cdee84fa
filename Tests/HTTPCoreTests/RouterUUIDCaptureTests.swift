import HTTPCore
import XCTest

final class RouterUUIDCaptureTests: XCTestCase {
    func testUUIDCaptureTakesOnlyUUIDs() {
        var router = Router<String>()
        router.get("/fetch/:id(uuid)", "show")
        router.get("/fetch/metadata", "metadata")
        router.get("/fetch/:id(uuid)/:name", "download")
        let id = "0b7a3c1e-94f2-4d6b-8a1e-5f0c2d3e4a5b"
        guard case .found(let show) = router.match(method: "GET", path: "/fetch/" + id) else { return XCTFail("a UUID matches") }
        XCTAssertEqual(show.handler, "show")
        XCTAssertEqual(show.captures, ["id": id])
        guard case .found(let upper) = router.match(method: "GET", path: "/fetch/" + id.uppercased() + "/a.mp4") else {
            return XCTFail("either case")
        }
        XCTAssertEqual(upper.captures, ["id": id.uppercased(), "name": "a.mp4"])
        guard case .found(let literal) = router.match(method: "GET", path: "/fetch/metadata") else { return XCTFail("literal") }
        XCTAssertEqual(literal.handler, "metadata")
        for path in ["/fetch/nope", "/fetch/" + id.dropLast(), "/fetch/" + id + "0", "/fetch/" + id.replacingOccurrences(of: "-", with: "x"),
                     "/fetch/0b7a3c1e-94f2-4d6b-8a1e-5f0c2d3e4a5g"] {
            guard case .notFound = router.match(method: "GET", path: path) else { return XCTFail("\(path) is no route") }
        }
    }
}
