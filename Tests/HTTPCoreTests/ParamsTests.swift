import XCTest
@testable import HTTPCore

final class ParamsTests: XCTestCase {
    func testDashAndUnderscoreKeysAreOne() {
        let p = Params.object([("download-count", .string("3"))])
        XCTAssertEqual(p["download_count"]?.string, "3")
    }

    func testMergeBodyWinsAndNests() {
        let query = Params.object([("page", .string("1")), ("item", .object([("sku", .string("a"))]))])
        let body = Params.object([("page", .string("2")), ("item", .object([("name", .string("n"))]))])
        let merged = query.merging(body)
        XCTAssertEqual(merged["page"]?.string, "2")
        XCTAssertEqual(merged["item"]?["sku"]?.string, "a")
        XCTAssertEqual(merged["item"]?["name"]?.string, "n")
    }

    func testPaginationBounds() {
        XCTAssertEqual(Pagination(.empty), Pagination(page: 1, perPage: 25))
        let p = Pagination(.object([("page", .string("3")), ("per_page", .string("500"))]))
        XCTAssertEqual(p.perPage, 100)
        XCTAssertEqual(p.offset, 200)
        let huge = Pagination(.object([("page", .string("9223372036854775807")), ("per_page", .string("-4"))]))
        XCTAssertEqual(huge.perPage, 1)
        XCTAssertEqual(huge.page, 10_000_000) // clamped: no overflow
        XCTAssertEqual(huge.offset, 9_999_999)
        XCTAssertEqual(Pagination(.object([("page", .string("x"))])).page, 1)
    }

    func testRequestInputMergesQueryAndFormBodyOfGET() throws {
        let r = Request(method: "GET", path: "/api/items", rawQuery: "per_page=5",
                        headers: ["content-type": "application/x-www-form-urlencoded"], body: Array("page=2".utf8))
        let p = try RequestInput.params(r)
        XCTAssertEqual(Pagination(p), Pagination(page: 2, perPage: 5))
    }

    func testRequestInputRejectsMalformedXMLAndDoctype() {
        for body in ["<item><sku>1</item>", "<!DOCTYPE x [<!ENTITY a \"b\">]><item>&a;</item>"] {
            let r = Request(method: "POST", path: "/", headers: ["content-type": "application/xml"], body: Array(body.utf8))
            XCTAssertThrowsError(try RequestInput.params(r)) { error in
                XCTAssertTrue((error as! RequestInput.Error).message.hasPrefix("Malformed XML"))
            }
        }
    }

    func testUnsupportedContentType() {
        let r = Request(method: "POST", path: "/", headers: ["content-type": "application/pdf"], body: [1, 2])
        XCTAssertThrowsError(try RequestInput.params(r))
    }

    func testResponseSerialization() {
        var out: [UInt8] = []
        Response(status: 404, headers: [("X-A", "1\r\nInjected: yes")], body: Array("hi".utf8)).serialize(into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "Status: 404 Not Found\r\nX-A: 1Injected: yes\r\nContent-Length: 2\r\n\r\nhi")
        Response(status: 200, body: Array("x".utf8), sendsContentLength: false).serialize(into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "Status: 200 OK\r\n\r\nx")
    }
}
