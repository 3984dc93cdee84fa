import XCTest
@testable import HTTPCore
import Crypto

/// Issue 14's hostile input at the HTTPCore level: regressions of what the fuzzers found (each with
/// the exact input, also kept in Fuzz/Corpus) and invalid UTF-8 in queries and form bodies.
final class HostileInputTests: XCTestCase {
    /// FuzzBasic, `bAsIc  YWI\u{326}w  YWI`: a token that starts with a combining mark (U+0326) makes
    /// the colon before it and the mark one Character, and the split by Character found no colon.
    func testBasicTokenStartingWithACombiningMark() throws {
        let crash: [UInt8] = [0x62, 0x41, 0x73, 0x49, 0x63, 0x20, 0x20, 0x59, 0x57, 0x49, 0xCC, 0xA6, 0x77, 0x20, 0x20, 0x59, 0x57, 0x49]
        let bytes = Array(crash[..<9]) + Array(":".utf8) + Array(crash[10...])
        let header = "bAsIc " + Base64.encode(bytes)
        XCTAssertEqual(Credentials.basic(header), .keyAndToken(key: "bAsIc  YW", token: "\u{326}w  YWI"))
        XCTAssertEqual(Credentials.basic("Basic " + Base64.encode(Array("k:\u{301}t".utf8))), .keyAndToken(key: "k", token: "\u{301}t"))
    }

    func testInvalidUTF8InTheQueryIsRefused() {
        for query in ["page=%FF", "a=%C3%28", "q=%E2%82", "%FF=1", "a=1&b=%C0%AF"] {
            let r = Request(method: "GET", path: "/", rawQuery: query)
            XCTAssertThrowsError(try RequestInput.params(r), query) { error in
                XCTAssertEqual((error as! RequestInput.Error).message, "The query string is not UTF-8")
                XCTAssertFalse((error as! RequestInput.Error).tooLarge)
            }
        }
        for query in ["page=2", "name=Gr%C3%BC%C3%9Fe", "a=%ZZ", "name=caf\u{e9}", "x=%EF%BF%BD"] {
            XCTAssertNoThrow(try RequestInput.params(Request(method: "GET", path: "/", rawQuery: query)), query)
        }
    }

    func testInvalidUTF8InAFormBodyIsRefused() {
        for body: [UInt8] in [Array("item[name]=".utf8) + [0xFF], Array("item[name]=%FF%FE".utf8), Array("item%5B%FF%5D=1".utf8)] {
            let r = Request(method: "POST", path: "/", headers: ["content-type": "application/x-www-form-urlencoded"], body: body)
            XCTAssertThrowsError(try RequestInput.params(r)) { error in
                XCTAssertEqual((error as! RequestInput.Error).message, "The form body is not UTF-8")
            }
        }
        let ok = Request(method: "POST", path: "/", headers: ["content-type": "application/x-www-form-urlencoded"],
                         body: Array("item[name]=Gr%C3%BCn+%26+bl%C3%A4u&x=100%25".utf8))
        XCTAssertEqual(try RequestInput.params(ok)["item"]?["name"]?.string, "Grün & bläu")
    }
}
