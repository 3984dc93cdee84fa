@testable import Dialect
import Foundation
import XCTest

final class AllowMapTests: XCTestCase {
    let lines = ["GET /fetch", "HEAD /fetch", "POST /fetch", "GET /fetch/metadata", "POST /fetch/metadata",
                 "GET /fetch/:id(uuid)", "HEAD /fetch/:id(uuid)", "DELETE /fetch/:id(uuid)", "GET /files/:id", "DELETE /files/:id",
                 "ANY /api/items/:sku/delete", "GET /api/items/:sku", "POST /api/items/create", "GET /"]

    func testEntriesMostSpecificFirstWithTheUnionOfEveryRouteThatMatches() {
        let map = AllowMap.nginxMap(variable: "fg_allow", routeLines: lines)
        let entries = map.split(separator: "\n").map(String.init)
        XCTAssertEqual(entries.first, "    map $request_uri $fg_allow {")
        XCTAssertEqual(entries[1], "        default \"GET, HEAD\";")
        XCTAssertEqual(entries.last, "    }")
        let body = Array(entries[2..<(entries.count - 1)])
        let uuid = AllowMap.uuidRegex
        XCTAssertEqual(body, [
            #"        "~^/*(?:[?]|$)" "GET";"#,
            #"        "~^/+fetch/?(?:[?]|$)" "GET, HEAD, POST";"#,
            #"        "~^/+fetch/+metadata/?(?:[?]|$)" "GET, POST";"#,
            "        \"~^/+fetch/+\(uuid)/?(?:[?]|$)\" \"DELETE, GET, HEAD\";",
            #"        "~^/+files/+[^/?]+/?(?:[?]|$)" "DELETE, GET";"#,
            // /api/items/create is also an /api/items/:sku: a TRACE there names both routes' methods.
            #"        "~^/+api/+items/+create/?(?:[?]|$)" "GET, POST";"#,
            #"        "~^/+api/+items/+[^/?]+/?(?:[?]|$)" "GET";"#,
            #"        "~^/+api/+items/+[^/?]+/+delete/?(?:[?]|$)" "DELETE, GET, HEAD, PATCH, POST, PUT";"#,
        ])
    }

    func testTheRegexesMatchWhatTheRouterMatches() throws {
        let id = "0b7a3c1e-94f2-4d6b-8a1e-5f0c2d3e4a5b"
        func matches(_ pattern: String, _ uri: String) throws -> Bool {
            let regex = String(AllowMap.regex(AllowMap.segments(pattern)).dropFirst()) // without nginx's "~"
            return try NSRegularExpression(pattern: regex).firstMatch(in: uri, range: NSRange(uri.startIndex..., in: uri)) != nil
        }
        XCTAssertTrue(try matches("/fetch/:id(uuid)", "/fetch/" + id))
        XCTAssertTrue(try matches("/fetch/:id(uuid)", "/fetch/" + id.uppercased() + "/?x=1"))
        XCTAssertTrue(try matches("/fetch/:id(uuid)", "//fetch//" + id + "?a/b"))
        XCTAssertFalse(try matches("/fetch/:id(uuid)", "/fetch/metadata"))
        XCTAssertFalse(try matches("/fetch/:id(uuid)", "/fetch/" + id + "/x"))
        XCTAssertTrue(try matches("/files/:id", "/files/file_abc%20"))
        XCTAssertFalse(try matches("/files/:id", "/filesx/abc"))
        XCTAssertTrue(try matches("/", "/?q"))
        XCTAssertFalse(try matches("/", "/index.html"))
        XCTAssertEqual(AllowMap.regex(AllowMap.segments("/a.b/c")), #"~^/+a[.]b/+c/?(?:[?]|$)"#)
    }
}
