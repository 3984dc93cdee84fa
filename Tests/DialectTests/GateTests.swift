import XCTest
import Domain
import HTTPCore
@testable import Dialect

final class GateTests: XCTestCase {
    func post(query: String = "", headers: [String: String] = [:], form: String = "") -> Request {
        var all = headers
        if !form.isEmpty { all["content-type"] = "application/x-www-form-urlencoded" }
        return Request(method: "POST", path: "/files/1", rawQuery: query, headers: all, body: Array(form.utf8))
    }

    func testMethodOverrideFromHeaderQueryOrForm() {
        XCTAssertEqual(Gate.overriddenMethod(post(headers: ["x-http-method-override": "DELETE"])), "DELETE")
        XCTAssertEqual(Gate.overriddenMethod(post(query: "_method=put")), "PUT")
        XCTAssertEqual(Gate.overriddenMethod(post(form: "a=1&_method=patch")), "PATCH")
        // The header wins over the query.
        XCTAssertEqual(Gate.overriddenMethod(post(query: "_method=PUT", headers: ["x-http-method-override": "DELETE"])), "DELETE")
    }

    func testOnlyPostsAndOnlyWritingMethodsAreOverridden() {
        XCTAssertNil(Gate.overriddenMethod(post()))
        XCTAssertNil(Gate.overriddenMethod(post(query: "_method=GET")))
        XCTAssertNil(Gate.overriddenMethod(post(headers: ["x-http-method-override": "CONNECT"])))
        XCTAssertNil(Gate.overriddenMethod(Request(method: "GET", path: "/files/1", rawQuery: "_method=DELETE")))
        // A multipart body is not read for it.
        XCTAssertNil(Gate.overriddenMethod(Request(method: "POST", path: "/files/1",
                                                   headers: ["content-type": "multipart/form-data; boundary=B"],
                                                   body: Array("_method=DELETE".utf8))))
    }

    func testJSONListEnvelope() {
        let write: (Int, inout JSONWriter) -> Void = { value, w in w.int(Int64(value)) }
        let reply = JSONWire.list("files", Listing(items: [1, 2], total: 5, hasMore: true, nextCursor: "2"),
                                  Pagination(page: 2, perPage: 2), item: write)
        XCTAssertEqual(String(decoding: reply.body, as: UTF8.self),
                       #"{"files":[1,2],"page":2,"per_page":2,"total":5,"has_more":true,"next_cursor":"2"}"#)
        XCTAssertEqual(reply.header("Content-Type"), "application/json")
        let last = JSONWire.list("files", Listing(items: [5], total: 5, hasMore: false, nextCursor: nil),
                                 Pagination(page: 3, perPage: 2), item: write)
        XCTAssertTrue(String(decoding: last.body, as: UTF8.self).hasSuffix(#""has_more":false,"next_cursor":null}"#))
    }

    func testFailuresInEachWire() {
        let notAllowed = Failure(status: 405, code: "method_not_allowed", message: "Method not allowed", allow: ["GET", "HEAD"])
        let json = JSONWire.failure(notAllowed)
        XCTAssertEqual(String(decoding: json.body, as: UTF8.self),
                       #"{"error":{"code":"method_not_allowed","message":"Method not allowed"}}"#)
        XCTAssertEqual(json.header("Allow"), "GET, HEAD")
        let xml = XMLWire.failure(.unauthorized)
        XCTAssertEqual(xml.status, 401)
        XCTAssertEqual(xml.header("WWW-Authenticate"), #"Basic realm="Fetchgate""#)
        XCTAssertFalse(xml.sendsContentLength)
    }

    func testCustomerLinks() {
        let links = CustomerLinks(base: "https://shop.example/")
        XCTAssertEqual(links.orderItem(guid: "G1"), "https://shop.example/get/G1")
        XCTAssertEqual(CustomerLinks.permalinkPath(guid: "G2"), "/permalink/G2")
    }
}
