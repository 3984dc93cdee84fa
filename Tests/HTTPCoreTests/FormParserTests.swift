import XCTest
@testable import HTTPCore
import TestSupport

final class FormParserTests: XCTestCase {
    private func s(_ value: String) -> Params { .string(value) }

    func testSimplePairs() {
        XCTAssertEqual(FormParser.parse("a=1&b=two"), .object([("a", s("1")), ("b", s("two"))]))
        XCTAssertEqual(FormParser.parse(""), .object([]))
        XCTAssertEqual(FormParser.parse([UInt8]()), .object([]))
    }

    func testStringSubstringAndBytesAgree() {
        let input = "x=1&item[sku]=A%20B&tags[]=t"
        let expected = FormParser.parse(input)
        XCTAssertEqual(FormParser.parse(Array(input.utf8)), expected)
        let padded = "??" + input + "!!"
        let inner = padded.dropFirst(2).dropLast(2)
        XCTAssertEqual(FormParser.parse(inner), expected)
    }

    func testNestedObject() {
        let p = FormParser.parse("item[sku]=1&item[name]=Carrot%20Juice")
        XCTAssertEqual(p, .object([("item", .object([("sku", s("1")), ("name", s("Carrot Juice"))]))]))
        XCTAssertEqual(p["item"]?["name"]?.string, "Carrot Juice")
    }

    func testPercentEncodedBrackets() {
        let plain = FormParser.parse("item[sku]=1&item[name]=x&tags[]=a&tags[]=b")
        let encoded = FormParser.parse("item%5Bsku%5D=1&item%5bname%5d=x&tags%5B%5D=a&tags%5B%5D=b")
        XCTAssertEqual(encoded, plain)
        XCTAssertEqual(encoded["tags"], .array([s("a"), s("b")]))
    }

    func testArrayOfObjectsRailsSemantics() {
        let p = FormParser.parse(
            "order[order_items][][sku]=A&order[order_items][][downloads_remaining]=2&order[order_items][][sku]=B")
        XCTAssertEqual(
            p["order"]?["order_items"],
            .array([
                .object([("sku", s("A")), ("downloads_remaining", s("2"))]),
                .object([("sku", s("B"))]),
            ]))
    }

    func testArrayOfObjectsDeeperKeys() {
        let p = FormParser.parse("o[][a][b]=1&o[][a][c]=2&o[][a][b]=3")
        XCTAssertEqual(
            p["o"],
            .array([
                .object([("a", .object([("b", s("1")), ("c", s("2"))]))]),
                .object([("a", .object([("b", s("3"))]))]),
            ]))
        // A path containing [] never starts a new element (Rack semantics).
        XCTAssertEqual(
            FormParser.parse("o[][t][]=1&o[][t][]=2")["o"],
            .array([.object([("t", .array([s("1"), s("2")]))])]))
    }

    func testArrayOfStrings() {
        XCTAssertEqual(FormParser.parse("tags[]=a&tags[]=b"), .object([("tags", .array([s("a"), s("b")]))]))
        XCTAssertEqual(FormParser.parse("tags[]"), .object([("tags", .array([s("")]))]))
        XCTAssertEqual(FormParser.parse("m[][]=1&m[][]=2"), .object([("m", .array([.array([s("1")]), .array([s("2")])]))]))
    }

    func testIndexedHashes() {
        let p = FormParser.parse("a[0][x]=1&a[1][x]=2")
        XCTAssertEqual(p, .object([("a", .object([("0", .object([("x", s("1"))])), ("1", .object([("x", s("2"))]))]))]))
        XCTAssertEqual(p["a"]?.elements.compactMap { $0["x"]?.string }, ["1", "2"])
    }

    func testLastWins() {
        XCTAssertEqual(FormParser.parse("a=1&a=2"), .object([("a", s("2"))]))
        XCTAssertEqual(FormParser.parse("x[y]=1&x[y]=2"), .object([("x", .object([("y", s("2"))]))]))
    }

    func testKeysWithoutValuesAndEmptyPairs() {
        XCTAssertEqual(FormParser.parse("a&b=&c=3"), .object([("a", s("")), ("b", s("")), ("c", s("3"))]))
        XCTAssertEqual(FormParser.parse("&&a=1&&&b=2&"), .object([("a", s("1")), ("b", s("2"))]))
        // Pairs with an empty key are dropped.
        XCTAssertEqual(FormParser.parse("=x&a=1&=&[]=3"), .object([("a", s("1")), ("[]", s("3"))]))
        XCTAssertEqual(FormParser.parse("a=b=c"), .object([("a", s("b=c"))]))
    }

    func testSpacesAndPercent() {
        XCTAssertEqual(FormParser.parse("q=a+b%20c&k+1=v")["q"], s("a b c"))
        XCTAssertEqual(FormParser.parse("k+1=v")["k 1"], s("v"))
        XCTAssertEqual(FormParser.parse("p=%2B%26%3D%25")["p"], s("+&=%"))
    }

    func testInvalidEscapesKeptLiterally() {
        XCTAssertEqual(FormParser.parse("a=%&b=%4&c=%zz&d=100%&e=%%41")["a"], s("%"))
        let p = FormParser.parse("a=%&b=%4&c=%zz&d=100%&e=%%41")
        XCTAssertEqual(p["b"], s("%4"))
        XCTAssertEqual(p["c"], s("%zz"))
        XCTAssertEqual(p["d"], s("100%"))
        XCTAssertEqual(p["e"], s("%A"))
    }

    func testUnicode() {
        let p = FormParser.parse("name=%E6%97%A5%E6%9C%AC&raw=Jürgen&%C3%A9t%C3%A9=summer&emoji=%F0%9F%A5%95")
        XCTAssertEqual(p["name"], s("日本"))
        XCTAssertEqual(p["raw"], s("Jürgen"))
        XCTAssertEqual(p["été"], s("summer"))
        XCTAssertEqual(p["emoji"], s("🥕"))
    }

    func testInvalidUTF8IsReplaced() {
        XCTAssertEqual(FormParser.parse("a=%FF%FE")["a"], s("\u{FFFD}\u{FFFD}"))
        XCTAssertEqual(FormParser.parse([0x61, 0x3D, 0xC3])["a"], s("\u{FFFD}"))
    }

    func testConflictsLaterWins() {
        XCTAssertEqual(FormParser.parse("a=1&a[b]=2"), .object([("a", .object([("b", s("2"))]))]))
        XCTAssertEqual(FormParser.parse("a[b]=2&a=1"), .object([("a", s("1"))]))
        XCTAssertEqual(FormParser.parse("a[]=1&a[b]=2"), .object([("a", .object([("b", s("2"))]))]))
        XCTAssertEqual(FormParser.parse("a[b]=2&a[]=1"), .object([("a", .array([s("1")]))]))
        XCTAssertEqual(FormParser.parse("a=1&a[]=2"), .object([("a", .array([s("2")]))]))
        XCTAssertEqual(FormParser.parse("a[b]=1&a[b][c]=2"), .object([("a", .object([("b", .object([("c", s("2"))]))]))]))
        XCTAssertEqual(
            FormParser.parse("a[][b]=1&a[][b][c]=2")["a"],
            .array([.object([("b", .object([("c", s("2"))]))])]))
    }

    func testMalformedBrackets() {
        XCTAssertEqual(FormParser.parse("a[b=1"), .object([("a", .object([("b", s("1"))]))]))
        XCTAssertEqual(FormParser.parse("a]b=1"), .object([("a]b", s("1"))]))
        XCTAssertEqual(FormParser.parse("a[b]c=1"), .object([("a", .object([("b", .object([("c", s("1"))]))]))]))
        XCTAssertEqual(FormParser.parse("a[b][[c]]=1")["a"]?["b"]?["c"], s("1"))
        XCTAssertEqual(FormParser.parse("[a]=1"), .object([("[a]", s("1"))]))
        XCTAssertEqual(FormParser.parse("a[=1"), .object([("a", s("1"))]))
        _ = FormParser.parse("[[[]]]=1&]]][[=2&[=&]=&a[=&a]]=")
    }

    func testPairLimit() throws {
        let max = FormParser.maxPairs
        // A query keeps its first maxPairs pairs.
        let query = (0..<(max + 500)).map { "k\($0)=\($0)" }.joined(separator: "&")
        guard case .object(let members) = FormParser.parse(query) else { return XCTFail("not an object") }
        XCTAssertEqual(members.count, max)
        XCTAssertEqual(members.last?.0, "k\(max - 1)")
        // A body at the limit is read whole; one pair more is refused, not cut.
        let atLimit = (0..<max).map { "k\($0)=\($0)" }.joined(separator: "&")
        guard case .object(let all) = try FormParser.parseBody(Array(atLimit.utf8)) else { return XCTFail("not an object") }
        XCTAssertEqual(all.count, max)
        XCTAssertThrowsError(try FormParser.parseBody(Array((atLimit + "&late=1").utf8))) {
            XCTAssertEqual($0 as? FormParser.TooManyPairs, FormParser.TooManyPairs())
        }
        // Empty pairs do not count against the limit.
        let sparse = String(repeating: "&", count: max + 10) + "a=1"
        XCTAssertEqual(try FormParser.parseBody(Array(sparse.utf8)), .object([("a", s("1"))]))
        XCTAssertEqual(try FormParser.parseBody(Array((atLimit + "&&&").utf8))["k0"], s("0"))
    }

    func testTenThousandOrderItemsInAForm() throws {
        let body = "order[id]=X&" + (0..<10_000).map { "order[order_items][][sku]=S\($0)" }.joined(separator: "&") + "&order[email]=a@b.c"
        let params = try FormParser.parseBody(Array(body.utf8))
        XCTAssertEqual(params["order"]?["order_items"]?.elements.count, 10_000)
        XCTAssertEqual(params["order"]?["email"], s("a@b.c"))
        XCTAssertEqual(params["order"]?["id"], s("X"))
    }

    func testManyDistinctKeysAndRepeats() {
        let body = (0..<1000).map { "k\($0 % 300)[x]=\($0)" }.joined(separator: "&")
        guard case .object(let members) = FormParser.parse(body) else { return XCTFail("not an object") }
        XCTAssertEqual(members.count, 300)
        XCTAssertEqual(members[0].1["x"], s("900"))
        let tags = (0..<1000).map { "t[]=\($0)" }.joined(separator: "&")
        XCTAssertEqual(FormParser.parse(tags)["t"]?.elements.count, 1000)
    }

    func testDepthLimit() {
        let deep = "a" + String(repeating: "[x]", count: 40) + "=v"
        var node = FormParser.parse(deep)["a"]
        var depth = 0
        while case .object(let members)? = node, let first = members.first {
            node = first.1
            depth += 1
        }
        XCTAssertEqual(depth, FormParser.maxDepth)
        XCTAssertEqual(node, s("v"))
        // Huge nesting does not blow the stack.
        let huge = "a" + String(repeating: "[]", count: 100_000) + "=1"
        XCTAssertTrue(FormParser.parse(huge).isObject)
    }

    func testGarbageNeverCrashes() {
        var rng = TestRNG(self)
        let alphabet = Array("ab=&[]%5B%5D+%zz%F0\u{0}".utf8) + [0xFF, 0xC3, 0x80]
        for _ in 0..<3000 {
            let length = Int(rng.next() % 64)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                if rng.next() % 4 == 0 {
                    bytes.append(UInt8(truncatingIfNeeded: rng.next()))
                } else {
                    bytes.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
                }
            }
            XCTAssertTrue(FormParser.parse(bytes).isObject)
        }
    }
}
