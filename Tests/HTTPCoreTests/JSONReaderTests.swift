import HTTPCore
import XCTest

final class JSONReaderTests: XCTestCase {
    func read(_ text: String) throws -> Params { try JSONReader.params(Array(text.utf8)) }

    func testObjectsArraysAndScalars() throws {
        let p = try read(#" {"url": "https://e.com/a?b=1", "n": -12.5e2, "ok": true, "no": false, "none": null, "list": [1, "x"], "o": {"k": "v"}} "#)
        XCTAssertEqual(p["url"]?.string, "https://e.com/a?b=1")
        XCTAssertEqual(p["n"]?.string, "-12.5e2")
        XCTAssertEqual(p["ok"]?.string, "true")
        XCTAssertEqual(p["no"]?.string, "false")
        XCTAssertEqual(p["none"], .null)
        XCTAssertEqual(p["list"], .array([.string("1"), .string("x")]))
        XCTAssertEqual(p["o"]?["k"]?.string, "v")
        XCTAssertEqual(try read("{}"), .object([]))
    }

    func testEscapes() throws {
        let p = try read(#"{"s": "a\"b\\c\/d\n\t\u00e9\ud83d\ude00"}"#)
        XCTAssertEqual(p["s"]?.string, "a\"b\\c/d\n\té😀")
    }

    func testRefusals() {
        let bad = ["", "[]", "\"x\"", "12", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}",
                   "{\"a\":tru}", "{\"a\":\"\u{1}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
                   "{\"a\":\"unterminated}", "{} {}", "{'a':1}", "{\"a\":1e}"]
        for text in bad {
            XCTAssertThrowsError(try read(text), text)
        }
        XCTAssertThrowsError(try JSONReader.params([UInt8(ascii: "{"), UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\""), UInt8(ascii: ":"),
                                                    UInt8(ascii: "1"), UInt8(ascii: "}")]))
    }

    func testDepthLimitOnEachSide() throws {
        func nested(_ n: Int) -> String { "{\"a\":" + String(repeating: "[", count: n - 1) + String(repeating: "]", count: n - 1) + "}" }
        XCTAssertNoThrow(try read(nested(JSONReader.maxDepth)))
        XCTAssertThrowsError(try read(nested(JSONReader.maxDepth + 1)))
    }

    func testRequestInputReadsJSONBodies() throws {
        let r = Request(method: "POST", path: "/", rawQuery: "quality=best", headers: ["content-type": "application/json; charset=utf-8"],
                        body: Array(#"{"url":"https://e.com/v"}"#.utf8))
        let p = try RequestInput.params(r)
        XCTAssertEqual(p["url"]?.string, "https://e.com/v")
        XCTAssertEqual(p["quality"]?.string, "best")
        let bad = Request(method: "POST", path: "/", headers: ["content-type": "application/json"], body: Array("{nope".utf8))
        XCTAssertThrowsError(try RequestInput.params(bad)) { error in
            XCTAssertTrue((error as! RequestInput.Error).message.hasPrefix("Malformed JSON"))
        }
    }
}

final class ContentDispositionExtendedFirstTests: XCTestCase {
    func testExtendedFormComesFirstAlways() {
        XCTAssertEqual(ContentDisposition.attachmentExtendedFirst(filename: "Clip.mp4"),
                       #"attachment; filename*=UTF-8''Clip.mp4; filename="Clip.mp4""#)
        XCTAssertEqual(ContentDisposition.attachmentExtendedFirst(filename: "Título \"x\"; 🎵.m4a"),
                       #"attachment; filename*=UTF-8''T%C3%ADtulo%20%22x%22%3B%20%F0%9F%8E%B5.m4a; filename="T_tulo _x__ _.m4a""#)
    }
}
