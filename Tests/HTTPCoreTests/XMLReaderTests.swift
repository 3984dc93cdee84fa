import XCTest
@testable import HTTPCore
import TestSupport

final class XMLReaderTests: XCTestCase {
    // MARK: Helpers

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func params(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> Params? {
        do {
            return try XMLReader.params(bytes(s))
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
            return nil
        }
    }

    /// The parse error for `input`, failing the test if it parses.
    private func failure(_ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let node = try XMLReader.parse(input)
            XCTFail("expected an error, got \(node)", file: file, line: line)
            return ""
        } catch {
            return error.message
        }
    }

    private func failure(_ input: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        failure(bytes(input), file: file, line: line)
    }

    private let orderBody = """
        <?xml version="1.0" encoding="UTF-8"?>
        <order><send_email>true</send_email><id>1</id><title>Order for Bugs</title><expiration_date type="datetime">2010-07-24T01:47:30+00:00</expiration_date><download_limit type="integer">5</download_limit><order_items type="array"><order_item><sku>1</sku><downloads_remaining type="integer">4</downloads_remaining></order_item></order_items></order>
        """

    // MARK: Seed-style bodies

    func testRailsOrderBody() throws {
        let result = try XMLReader.params(bytes(orderBody))
        let expected = Params.object([
            ("order", .object([
                ("send_email", .string("true")),
                ("id", .string("1")),
                ("title", .string("Order for Bugs")),
                ("expiration_date", .string("2010-07-24T01:47:30+00:00")),
                ("download_limit", .string("5")),
                ("order_items", .array([
                    .object([
                        ("sku", .string("1")),
                        ("downloads_remaining", .string("4")),
                    ]),
                ])),
            ])),
        ])
        XCTAssertEqual(result, expected)
        XCTAssertEqual(result["order"]?["download-limit"]?.string, "5")
        XCTAssertEqual(result["order"]?["order_items"]?.elements.count, 1)

        let root = try XMLReader.parse(bytes(orderBody))
        XCTAssertEqual(root.name, "order")
        XCTAssertEqual(root.children.count, 6)
        XCTAssertEqual(root.children[3].attributes.first?.0, "type")
        XCTAssertEqual(root.children[3].attribute("type"), "datetime")
    }

    func testDotNetStyleItemBody() throws {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <item xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
              <id>12</id>
              <download-limit>3</download-limit>
              <filename />
              <content-type>application/pdf</content-type>
              <expiration-date nil="true"/>
            </item>
            """
        let result = try XMLReader.params(bytes(body))
        XCTAssertEqual(result, .object([
            ("item", .object([
                ("id", .string("12")),
                ("download-limit", .string("3")),
                ("filename", .string("")),
                ("content-type", .string("application/pdf")),
                ("expiration-date", .null),
            ])),
        ]))
        XCTAssertEqual(result["item"]?["download_limit"]?.string, "3")
        XCTAssertEqual(result["item"]?["content_type"]?.string, "application/pdf")
        XCTAssertEqual(result["item"]?["filename"], .string(""))
    }

    func testRepeatedChildrenWithoutTypeBecomeArray() throws {
        let body = """
            <order_items>
              <order_item><sku>1</sku></order_item>
              <order_item><sku>2</sku></order_item>
            </order_items>
            """
        XCTAssertEqual(params(body), .object([
            ("order_items", .array([
                .object([("sku", .string("1"))]),
                .object([("sku", .string("2"))]),
            ])),
        ]))
    }

    func testObjectKeepsOrderAndDuplicates() throws {
        XCTAssertEqual(params("<r><a>1</a><b>2</b><a>3</a></r>"), .object([
            ("r", .object([("a", .string("1")), ("b", .string("2")), ("a", .string("3"))])),
        ]))
    }

    func testTypeArrayAndNil() throws {
        XCTAssertEqual(params(#"<r type="array"/>"#), .object([("r", .array([]))]))
        XCTAssertEqual(params(#"<r type="array"><i>x</i></r>"#), .object([("r", .array([.string("x")]))]))
        XCTAssertEqual(params(#"<r nil="true"><i>x</i></r>"#), .object([("r", .null)]))
        XCTAssertEqual(params(#"<r nil="false">x</r>"#), .object([("r", .string("x"))]))
        // A type other than "array" keeps the object shape even for repeated names.
        XCTAssertEqual(params(#"<r type="hash"><i>1</i><i>2</i></r>"#),
                       .object([("r", .object([("i", .string("1")), ("i", .string("2"))]))]))
    }

    func testTextIsTrimmedInParamsButNotInNode() throws {
        let root = try XMLReader.parse(bytes("<a>\n  hello world \t</a>"))
        XCTAssertEqual(root.text, "\n  hello world \t")
        XCTAssertEqual(root.toParams(), .string("hello world"))
    }

    func testMixedContentTextCollectsDirectCharacterDataOnly() throws {
        let root = try XMLReader.parse(bytes("<a>x<b>inner</b>y<!-- c -->z<?pi data?></a>"))
        XCTAssertEqual(root.text, "xyz")
        XCTAssertEqual(root.children, [XMLNode(name: "b", text: "inner")])
    }

    // MARK: Lexical features

    func testPredefinedEntities() throws {
        let root = try XMLReader.parse(bytes("<a>&lt;b&gt; &amp; &quot;x&quot; &apos;y&apos;</a>"))
        XCTAssertEqual(root.text, "<b> & \"x\" 'y'")
    }

    func testCDATA() throws {
        let root = try XMLReader.parse(bytes("<a>pre <![CDATA[<not> & &amp; markup]]> post</a>"))
        XCTAssertEqual(root.text, "pre <not> & &amp; markup post")
        XCTAssertEqual(try XMLReader.parse(bytes("<a><![CDATA[]]></a>")).text, "")
        XCTAssertEqual(try XMLReader.parse(bytes("<a><![CDATA[]]]]></a>")).text, "]]")
    }

    func testNumericCharacterReferences() throws {
        XCTAssertEqual(try XMLReader.parse(bytes("<a>&#65;&#x42;&#x63;&#x1F600;&#233;</a>")).text, "ABc😀é")
        XCTAssertEqual(try XMLReader.parse(bytes("<a>&#x000041;&#9;</a>")).text, "A\t")
        for bad in ["&#0;", "&#x0;", "&#xD800;", "&#x110000;", "&#99999999999999999999999;",
                    "&#xFFFE;", "&#1;", "&#;", "&#x;", "&#65", "&#X41;", "&#-1;", "&#x41 ;"] {
            _ = failure("<a>\(bad)</a>")
        }
    }

    func testAttributes() throws {
        let root = try XMLReader.parse(bytes(#"<a one="1" two='2' three = "a&amp;b&#x21;" four="it's" five='say "hi"' e=""/>"#))
        XCTAssertEqual(root.attributes.map { $0.0 }, ["one", "two", "three", "four", "five", "e"])
        XCTAssertEqual(root.attributes.map { $0.1 }, ["1", "2", "a&b!", "it's", "say \"hi\"", ""])
        XCTAssertEqual(try XMLReader.parse(bytes("<a v=\"x\ny\tz\"/>")).attribute("v"), "x y z")
    }

    func testLineEndingsAreNormalised() throws {
        XCTAssertEqual(try XMLReader.parse(bytes("<a>1\r\n2\r3</a>")).text, "1\n2\n3")
    }

    func testPrologAndEpilog() throws {
        let body = "\u{FEFF}<?xml version=\"1.0\"?>\n<!-- hi -->\n<?app data?>\n  <r>x</r>\n<!-- bye -->\n<?end?>\n  "
        XCTAssertEqual(try XMLReader.parse(bytes(body)), XMLNode(name: "r", text: "x"))
        XCTAssertEqual(try XMLReader.parse(bytes("<r/>")), XMLNode(name: "r"))
        XCTAssertEqual(try XMLReader.parse(bytes("  <r ></r >  ")), XMLNode(name: "r"))
        XCTAssertEqual(try XMLReader.parse(bytes("<ns:r xmlns:ns=\"u\"><ns:a-b.c_d/></ns:r>")).children.first?.name, "ns:a-b.c_d")
        XCTAssertEqual(try XMLReader.parse(bytes("<prix>10€</prix>")).text, "10€")
        XCTAssertEqual(try XMLReader.parse(bytes("<été>x</été>")).name, "été")
    }

    func testNodeEquality() {
        let a = XMLNode(name: "a", attributes: [("x", "1")], children: [XMLNode(name: "b")], text: "t")
        var b = a
        XCTAssertEqual(a, b)
        b.attributes = [("x", "2")]
        XCTAssertNotEqual(a, b)
        b = a
        b.children[0].text = "u"
        XCTAssertNotEqual(a, b)
    }

    func testManyAttributes() throws {
        let many = (0..<40).map { " a\($0)='\($0)'" }.joined()
        let root = try XMLReader.parse(bytes("<a\(many)/>"))
        XCTAssertEqual(root.attributes.count, 40)
        XCTAssertEqual(root.attribute("a39"), "39")
        XCTAssertTrue(failure("<a\(many) a3='x'/>").contains("duplicate"))
        XCTAssertTrue(failure("<a\(many) a39='x'/>").contains("duplicate"))
        XCTAssertTrue(failure("<a a='1' b='2' a='3'/>").contains("duplicate"))
    }

    // MARK: Refusals

    func testBillionLaughsIsRefused() {
        let body = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [
              <!ENTITY lol "lol">
              <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
              <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
              <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
            ]>
            <lolz>&lol4;</lolz>
            """
        XCTAssertTrue(failure(body).contains("DOCTYPE"))
    }

    func testXXEIsRefused() {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <order><title>&xxe;</title></order>
            """
        let message = failure(body)
        XCTAssertTrue(message.contains("DOCTYPE"), message)
        XCTAssertTrue(failure("<!DOCTYPE order SYSTEM \"http://evil/x.dtd\"><order/>").contains("DOCTYPE"))
    }

    func testUndeclaredAndStrayDeclarationsAreRefused() {
        XCTAssertTrue(failure("<order><title>&xxe;</title></order>").contains("&xxe;"))
        XCTAssertTrue(failure("<a>&nbsp;</a>").contains("nbsp"))
        XCTAssertTrue(failure(#"<a b="&xxe;"/>"#).contains("xxe"))
        XCTAssertTrue(failure(#"<a><!ENTITY x "y"></a>"#).contains("ENTITY"))
        XCTAssertTrue(failure(#"<!ENTITY x "y"><a/>"#).contains("ENTITY"))
        XCTAssertTrue(failure(#"<a><!DOCTYPE a></a>"#).contains("DOCTYPE"))
        _ = failure("<a><!ELEMENT a ANY></a>")
        _ = failure("<a><!ATTLIST a b CDATA #IMPLIED></a>")
        _ = failure("<a><!></a>")
        _ = failure("<a>&amp</a>")
        _ = failure("<a>& b</a>")
        _ = failure("<a>&</a>")
    }

    func testDepthLimit() throws {
        func nested(_ depth: Int, selfClosingLeaf: Bool = false) -> [UInt8] {
            if selfClosingLeaf {
                return bytes(String(repeating: "<a>", count: depth - 1) + "<a/>" + String(repeating: "</a>", count: depth - 1))
            }
            return bytes(String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth))
        }
        XCTAssertNoThrow(try XMLReader.params(nested(XMLReader.maxDepth)))
        XCTAssertNoThrow(try XMLReader.params(nested(XMLReader.maxDepth, selfClosingLeaf: true)))
        XCTAssertTrue(failure(nested(XMLReader.maxDepth + 1)).contains("deeper"))
        XCTAssertTrue(failure(nested(XMLReader.maxDepth + 1, selfClosingLeaf: true)).contains("deeper"))
        XCTAssertTrue(failure(nested(10_000)).contains("deeper"))
        XCTAssertTrue(failure(bytes(String(repeating: "<a>", count: 100_000))).contains("deeper"))
    }

    func testSizeLimit() {
        let big = bytes("<a>") + [UInt8](repeating: 0x78, count: XMLReader.maxBytes) + bytes("</a>")
        XCTAssertTrue(failure(big).contains("larger"))
        let fits = bytes("<a>") + [UInt8](repeating: 0x78, count: XMLReader.maxBytes - 7) + bytes("</a>")
        XCTAssertEqual(fits.count, XMLReader.maxBytes)
        XCTAssertEqual(try XMLReader.parse(fits).text.utf8.count, XMLReader.maxBytes - 7)
    }

    func testStructuralErrors() {
        XCTAssertEqual(failure("<r>\n<a>\n</b></a></r>"), "mismatched closing tag </b> for <a> at line 3")
        XCTAssertTrue(failure("").contains("empty"))
        XCTAssertTrue(failure("   \n ").contains("no root"))
        XCTAssertTrue(failure("<!-- only a comment -->").contains("no root"))
        XCTAssertTrue(failure("hello").contains("text before"))
        XCTAssertTrue(failure("<a></a><b></b>").contains("root"))
        XCTAssertTrue(failure("<a/>trailing").contains("text after"))
        XCTAssertTrue(failure("<a><b></a>").contains("mismatched"))
        XCTAssertTrue(failure("<a><b>").contains("unclosed"))
        XCTAssertTrue(failure(#"<a x="1" x="2"/>"#).contains("duplicate"))
        XCTAssertTrue(failure(#"<a x="1<2"/>"#).contains("'<'"))
        for bad in ["<", "<>", "</a>", "<a", "<a ", "<a/", "<a x>", "<a x=>", "<a x=1/>", #"<a x="1"y="2"/>"#,
                    "<a x=\"1/>", "<a></a", "<a></ a>", "<a></a b>", "<a><!-- x --></a", "<a><!-- x -- y --></a>",
                    "<a><!-- x", "<a><![CDATA[x</a>", "<a><?pi", "<a>]]></a>", "<1a/>", "<-a/>", "<a><?></a>",
                    "<a><?xml version=\"1.0\"?></a>", "<a/><?xml version=\"1.0\"?>", " <?xml version=\"1.0\"?><a/>",
                    "<![CDATA[x]]><a/>", "<a/><![CDATA[x]]>", "<?xml version=\"1.0\"?>", "<a>&#x41</a>"] {
            _ = failure(bad)
        }
    }

    func testInvalidUTF8AndControlCharacters() {
        let cases: [[UInt8]] = [
            [0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E],  // 0xFF
            [0x3C, 0x61, 0x3E, 0xC0, 0x80, 0x3C, 0x2F, 0x61, 0x3E],  // overlong NUL
            [0x3C, 0x61, 0x3E, 0xE0, 0x80, 0xAF, 0x3C, 0x2F, 0x61, 0x3E],  // overlong '/'
            [0x3C, 0x61, 0x3E, 0xED, 0xA0, 0x80, 0x3C, 0x2F, 0x61, 0x3E],  // surrogate
            [0x3C, 0x61, 0x3E, 0xF4, 0x90, 0x80, 0x80, 0x3C, 0x2F, 0x61, 0x3E],  // > U+10FFFF
            [0x3C, 0x61, 0x3E, 0x80, 0x3C, 0x2F, 0x61, 0x3E],  // lone continuation
            [0x3C, 0x61, 0x3E, 0xE2, 0x82, 0x3C, 0x2F, 0x61, 0x3E],  // truncated sequence
            [0x3C, 0x61, 0x3E, 0xE2, 0x82],  // truncated at end
            [0x3C, 0x61, 0x3E, 0x00, 0x3C, 0x2F, 0x61, 0x3E],  // NUL
            [0x3C, 0x61, 0x3E, 0x1B, 0x3C, 0x2F, 0x61, 0x3E],  // ESC
            [0x3C, 0x61, 0x3E, 0xEF, 0xBF, 0xBF, 0x3C, 0x2F, 0x61, 0x3E],  // U+FFFF
            [0xFE, 0xFF, 0x00, 0x3C, 0x00, 0x61, 0x00, 0x2F, 0x00, 0x3E],  // UTF-16
        ]
        for input in cases {
            _ = failure(input)
        }
        XCTAssertTrue(failure([0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E]).contains("UTF-8"))
    }

    // MARK: Robustness

    func testEveryPrefixParsesOrThrows() throws {
        let documents = [
            orderBody,
            "\u{FEFF}<?xml version=\"1.0\"?><!--c--><a x='1' y=\"&amp;\">t&#x41;<![CDATA[<c>]]><b/><?p d?></a>",
            "<été attr=\"ü\">€ &lt; 😀</été>",
        ]
        for document in documents {
            let all = bytes(document)
            XCTAssertNoThrow(try XMLReader.parse(all))
            for length in 0..<all.count {
                // Each proper prefix is unfinished (the documents end at the root's end tag).
                XCTAssertThrowsError(try XMLReader.parse(Array(all[0..<length])), "prefix of length \(length)")
            }
        }
    }

    /// Every suffix of a document parses only when it still starts at the declaration or the root
    /// (leading whitespace allowed), and then gives the whole document's params. A byte that is
    /// never well-formed (NUL, a lone continuation byte, 0xFF) is refused wherever it lands.
    private func read(_ input: [UInt8]) -> Result<Params, XMLReadError> {
        Result { () throws(XMLReadError) in try XMLReader.params(input) }
    }

    func testEverySuffixAndSingleByteCorruption() throws {
        let all = bytes(orderBody)
        let whole = try XMLReader.params(all)
        let root = try XCTUnwrap(orderBody.range(of: "<order>")).lowerBound.utf16Offset(in: orderBody)
        for start in 0..<all.count {
            let suffix = Array(all[start...])
            let startsAtRoot = start <= root && all[start..<root].allSatisfy { [0x20, 0x0A, 0x0D, 0x09].contains($0) }
            switch read(suffix) {
            case .success(let params):
                XCTAssertEqual(params, whole, "suffix from \(start)")
                XCTAssertTrue(start == 0 || startsAtRoot, "suffix from \(start) parsed")
            case .failure(let error):
                XCTAssertFalse(start == 0 || startsAtRoot, "suffix from \(start): \(error.message)")
                XCTAssertFalse(error.message.isEmpty)
            }
        }
        let never: [UInt8: String] = [0x00: "control character U+0000", 0x80: "invalid UTF-8", 0xFF: "invalid UTF-8"]
        let replacements: [UInt8] = [0x00, 0x26, 0x3C, 0x3E, 0x2F, 0x22, 0x27, 0x21, 0x3F, 0x5D, 0x80, 0xFF]
        for index in stride(from: 0, to: all.count, by: 3) {
            for replacement in replacements {
                var copy = all
                copy[index] = replacement
                switch read(copy) {
                case .success(let params):
                    XCTAssertNil(never[replacement], "byte \(replacement) at \(index) was accepted")
                    if replacement == all[index] { XCTAssertEqual(params, whole) }
                case .failure(let error):
                    if let expected = never[replacement] {
                        XCTAssertTrue(error.message.hasPrefix(expected), "byte \(replacement) at \(index): \(error.message)")
                    }
                }
            }
        }
    }

    /// Inputs at the size limit built to provoke quadratic behaviour still finish
    /// promptly (each is linear; a regression here shows up as a very slow test).
    func testHostileInputsAtSizeLimit() {
        func filled(_ prefix: String, _ unit: String, _ suffix: String) -> [UInt8] {
            let n = (XMLReader.maxBytes - prefix.utf8.count - suffix.utf8.count) / unit.utf8.count
            return bytes(prefix + String(repeating: unit, count: n) + suffix)
        }
        var attributes = "<a"
        var k = 0
        while attributes.utf8.count < XMLReader.maxBytes - 32 {
            attributes += " a\(k)=''"
            k += 1
        }
        XCTAssertNoThrow(try XMLReader.parse(bytes(attributes + "/>")))
        XCTAssertThrowsError(try XMLReader.parse(bytes(attributes + " a7=''/>")))
        XCTAssertNoThrow(try XMLReader.params(filled("<a>", "<b/>", "</a>")))
        XCTAssertNoThrow(try XMLReader.params(filled("<a>", "<b>x</b>", "</a>")))
        XCTAssertNoThrow(try XMLReader.params(filled("<a>", "&amp;&#x1F600;", "</a>")))
        XCTAssertThrowsError(try XMLReader.parse(filled("<a><!--", " ", "")))
        XCTAssertThrowsError(try XMLReader.parse(filled("<a><?p ", "?", "")))
        XCTAssertThrowsError(try XMLReader.parse(filled("<a><![CDATA[", "]", "")))
        XCTAssertThrowsError(try XMLReader.parse(filled("<a>", "\n", "")))
    }

    /// Random bytes: input that is not well-formed UTF-8 made of XML characters is refused by the
    /// character check (whatever else is wrong with it); what parses names its root as written.
    func testGarbageBytes() {
        var rng = TestRNG(self)
        let alphabet = bytes("<>/=\"'&#;x![]-?aA1 \n") + [0x00, 0x80, 0xC3, 0xA9, 0xFF]
        for round in 0..<2000 {
            let input = (0..<rng.below(64)).map { _ in
                round % 2 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[rng.below(alphabet.count)]
            }
            let text = String(validating: input, as: UTF8.self)
            let xmlCharacters = text.map { $0.unicodeScalars.allSatisfy { scalar in
                scalar.value >= 0x20 ? scalar.value != 0xFFFE && scalar.value != 0xFFFF : [0x09, 0x0A, 0x0D].contains(scalar.value)
            } } ?? false
            switch read(input) {
            case .success(let params):
                XCTAssertTrue(xmlCharacters, "\(input)")
                guard case .object(let fields) = params, let name = fields.first?.0 else { return XCTFail("\(params)") }
                XCTAssertTrue(text?.contains("<" + name) == true, "\(input)")
            case .failure(let error):
                let characterError = ["control character", "invalid UTF-8", "character U+"].contains { error.message.hasPrefix($0) }
                if input.isEmpty {
                    XCTAssertEqual(error.message, "empty document")
                } else {
                    XCTAssertEqual(characterError, !xmlCharacters, "\(input): \(error.message)")
                }
            }
        }
    }
}
