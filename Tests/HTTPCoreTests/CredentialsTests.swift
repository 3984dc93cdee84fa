import XCTest
@testable import HTTPCore
import Crypto

final class CredentialsTests: XCTestCase {
    func request(headers: [String: String] = [:], query: String = "") -> Request {
        Request(method: "GET", path: "/api/account", rawQuery: query, headers: headers)
    }

    func testBasicFromSeedExample() {
        // "demokey:demotoken".to_base64 in the seed.
        let c = Credentials.from(request(headers: ["authorization": "Basic ZGVtb2tleTpkZW1vdG9rZW4="]))
        XCTAssertEqual(c, .keyAndToken(key: "demokey", token: "demotoken"))
    }

    func testTokenMayContainColons() {
        let header = "Basic " + Base64.encode(Array("k:t:o:k".utf8))
        XCTAssertEqual(Credentials.basic(header), .keyAndToken(key: "k", token: "t:o:k"))
    }

    func testMalformedBasicIsRejected() {
        XCTAssertNil(Credentials.basic("Basic !!!"))
        XCTAssertNil(Credentials.basic("Basic " + Base64.encode(Array("nocolon".utf8))))
        XCTAssertNil(Credentials.basic("Basic " + Base64.encode(Array(":token".utf8))))
        XCTAssertNil(Credentials.basic("Bearer abc"))
        XCTAssertNil(Credentials.basic("Basic " + Base64.encode([0xff, 0x3a, 0x41])))
    }

    func testAPIKeyHeaderAndQuery() {
        XCTAssertEqual(Credentials.from(request(headers: ["x-api-key": "tok"])), .token("tok"))
        XCTAssertEqual(Credentials.from(request(query: "a=1&key=tok2")), .token("tok2"))
        XCTAssertNil(Credentials.from(request()))
    }

    func testHeaderNamesFromCGI() {
        let r = Request(cgi: ["HTTP_X_API_KEY": "abc", "REQUEST_METHOD": "post", "DOCUMENT_URI": "/x",
                              "CONTENT_TYPE": "application/xml; charset=utf-8"], body: [])
        XCTAssertEqual(r.header("x-api-key"), "abc")
        XCTAssertEqual(r.method, "POST")
        XCTAssertEqual(r.contentType, "application/xml")
    }
}
