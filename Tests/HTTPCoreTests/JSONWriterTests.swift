import Foundation
import XCTest
@testable import HTTPCore

final class JSONWriterTests: XCTestCase {
    func text(_ body: (inout JSONWriter) -> Void) -> String {
        String(decoding: JSONWriter.document(body), as: UTF8.self)
    }

    func testNestedDocumentWithCommasInPlace() {
        let json = text { w in
            w.beginObject()
            w.member("id", "f1")
            w.member("size", Int64(12))
            w.member("none", nil as String?)
            w.member("ok", true)
            w.key("list")
            w.beginArray()
            w.int(1)
            w.beginObject()
            w.endObject()
            w.beginArray()
            w.endArray()
            w.string("x")
            w.null()
            w.endArray()
            w.key("raw")
            w.raw("{\"a\":[1,2]}")
            w.key("missing")
            w.raw(nil)
            w.key("dynamic \"key\"")
            w.double(1.5)
            w.endObject()
        }
        XCTAssertEqual(json, #"{"id":"f1","size":12,"none":null,"ok":true,"list":[1,{},[],"x",null],"raw":{"a":[1,2]},"missing":null,"dynamic \"key\"":1.5}"#)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(json.utf8)))
    }

    func testStringEscapes() {
        let json = text { $0.string("a\"b\\c\nd\re\tf\u{1}\u{1f}\u{7f}/é😀") }
        XCTAssertEqual(json, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001\\u001f\u{7f}/é😀\"")
        XCTAssertEqual(text { $0.string("") }, "\"\"")
        XCTAssertEqual(text { $0.string("\u{0}") }, "\"\\u0000\"")
        // Long runs with escapes at both ends and in the middle.
        let long = "\"" + String(repeating: "x", count: 1000) + "\n" + String(repeating: "y", count: 1000) + "\\"
        let decoded = try? JSONSerialization.jsonObject(with: Data(text { $0.string(long) }.utf8), options: .fragmentsAllowed) as? String
        XCTAssertEqual(decoded, long)
    }

    func testEscapesAtEveryPositionOfLongText() {
        // The writer skips eight bytes at a time: each special byte must be found wherever it sits.
        func expected(_ c: Character) -> String {
            switch c {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            default:
                let v = c.unicodeScalars.first!.value
                return v < 0x20 ? "\\u00" + (v < 16 ? "0" : "") + String(v, radix: 16) : String(c)
            }
        }
        for special: Character in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{7f}", " ", "é"] {
            for position in 0..<24 {
                var chars = Array(repeating: Character("a"), count: 24)
                chars[position] = special
                let text = String(chars)
                let want = "\"" + chars.map(expected).joined() + "\""
                XCTAssertEqual(self.text { $0.string(text) }, want, "\(special.unicodeScalars.first!.value) at \(position)")
            }
        }
        // Bytes just around the limits: 0x1f escaped, 0x20, 0x21, 0x23, 0x5b, 0x5d not.
        let edges = "\u{1f} !#[]~" + String(repeating: "z", count: 9)
        XCTAssertEqual(text { $0.string(edges) }, "\"\\u001f !#[]~" + String(repeating: "z", count: 9) + "\"")
    }

    func testNonNativeStringsEscapeToo() {
        // A bridged string has no contiguous UTF-8 of its own.
        let bridged = NSString(string: "é\"x\u{2}") as String
        XCTAssertEqual(text { $0.string(bridged) }, "\"é\\\"x\\u0002\"")
    }

    func testIntegersAsStringWritesThem() {
        var values: [Int64] = [0, 1, 9, 10, -1, -9, -10, 99, 100, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { values.append(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...63, using: &rng)) }
        for v in values {
            XCTAssertEqual(text { $0.int(v) }, String(v))
        }
        XCTAssertEqual(text { $0.int(nil as Int64?) }, "null")
        XCTAssertEqual(text { $0.int(42 as Int) }, "42")
    }

    func testDoubles() {
        XCTAssertEqual(text { $0.double(3) }, "3")
        XCTAssertEqual(text { $0.double(-2) }, "-2")
        XCTAssertEqual(text { $0.double(0.25) }, "0.25")
        XCTAssertEqual(text { $0.double(1e15) }, String(1e15))
        XCTAssertEqual(text { $0.double(999_999_999_999_999) }, "999999999999999")
        XCTAssertEqual(text { $0.double(.nan) }, "null")
        XCTAssertEqual(text { $0.double(.infinity) }, "null")
        XCTAssertEqual(text { $0.double(-.infinity) }, "null")
    }

    func testBoolsAndNull() {
        XCTAssertEqual(text { w in
            w.beginArray()
            w.bool(true)
            w.bool(false)
            w.null()
            w.endArray()
        }, "[true,false,null]")
    }
}
