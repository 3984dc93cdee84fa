import XCTest
@testable import HTTPCore

final class XMLWriterTests: XCTestCase {
    func text(_ w: XMLWriter) -> String { String(decoding: w.finish(), as: UTF8.self) }

    func testTypedElementsAndArrays() {
        var w = XMLWriter(indent: false)
        w.openArray("items")
        w.open("item")
        w.element("sku", "A&B <1>")
        w.integer("order_count", Int64(4))
        w.float("price", 95.2)
        w.boolean("active", true)
        w.datetime("created_at", 1_230_490_076)
        w.close()
        w.close()
        XCTAssertEqual(text(w), #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" +
            #"<items type="array"><item><sku>A&amp;B &lt;1&gt;</sku><order_count type="integer">4</order_count>"# +
            #"<price type="float">95.2</price><active type="boolean">true</active>"# +
            #"<created_at type="datetime">2008-12-28T18:47:56+00:00</created_at></item></items>"#)
    }

    func testAbsentValuesAreLeftOut() {
        var w = XMLWriter(indent: false)
        w.open("order")
        w.integer("downloads_remaining", nil as Int64?)
        w.datetime("expiration_date", nil)
        w.element("order_id", nil)
        w.close()
        XCTAssertTrue(text(w).hasSuffix("<order></order>"))
    }

    func testControlCharactersDropped() {
        var w = XMLWriter(indent: false)
        w.element("m", "a\u{1}b\tc")
        XCTAssertTrue(text(w).hasSuffix("<m>ab\tc</m>"))
    }

    func testOutputParsesBack() throws {
        var w = XMLWriter()
        w.open("item")
        w.element("name", "Ünïcødé & \"quotes\"")
        w.close()
        let parsed = try XMLReader.parse(w.finish())
        XCTAssertEqual(parsed.children.first?.text, "Ünïcødé & \"quotes\"")
    }
}
