import HTTPCore
import XCTest

/// The `Accept` reader: q-values, wildcards, specificity, and what it does with malformed input.
final class AcceptHeaderTests: XCTestCase {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

    func prefersHTML(_ header: String?) -> Bool {
        AcceptHeader(header).prefers("text/html", over: "application/xml")
    }

    func testBrowsersPreferHTMLAndAPIClientsDoNot() {
        XCTAssertTrue(prefersHTML(browser))
        XCTAssertTrue(prefersHTML("text/html"))
        XCTAssertTrue(prefersHTML("text/*"))
        XCTAssertFalse(prefersHTML(nil), "no Accept accepts everything alike")
        XCTAssertFalse(prefersHTML(""))
        XCTAssertFalse(prefersHTML("*/*"))
        XCTAssertFalse(prefersHTML("application/xml"))
        XCTAssertFalse(prefersHTML("application/xml, text/xml"))
        XCTAssertFalse(prefersHTML("text/html;q=0.5, application/xml"))
        XCTAssertFalse(prefersHTML("text/html, application/xml"), "equal weights are no preference")
    }

    func testQualities() {
        let accept = AcceptHeader(browser)
        XCTAssertEqual(accept.quality(of: "text/html"), 1000)
        XCTAssertEqual(accept.quality(of: "application/xml"), 900)
        XCTAssertEqual(accept.quality(of: "application/json"), 800, "only */* matches")
        XCTAssertEqual(AcceptHeader("text/html").quality(of: "application/xml"), 0)
        XCTAssertEqual(AcceptHeader(nil).quality(of: "anything/at-all"), 1000)
    }

    func testQZeroMeansNotAcceptable() {
        XCTAssertEqual(AcceptHeader("text/html;q=0").quality(of: "text/html"), 0)
        XCTAssertFalse(prefersHTML("text/html;q=0, */*;q=0.1"))
        XCTAssertEqual(AcceptHeader("*/*, text/html;q=0").quality(of: "text/html"), 0, "the specific range wins over */*")
        XCTAssertEqual(AcceptHeader("text/html;q=0.000").quality(of: "text/html"), 0)
    }

    func testSpacesTabsAndCase() {
        XCTAssertEqual(AcceptHeader("text/html ; q = 0.5").quality(of: "text/html"), 500)
        XCTAssertEqual(AcceptHeader(" text/html\t;\tq=0.25 , application/xml ; q=0.2").quality(of: "application/xml"), 200)
        XCTAssertEqual(AcceptHeader("TEXT/HTML;Q=0.7").quality(of: "text/html"), 700)
        XCTAssertEqual(AcceptHeader("text/html;level=1;q=0.4;ext=x").quality(of: "text/html"), 400, "other parameters are skipped")
        XCTAssertEqual(AcceptHeader("text/html;").quality(of: "text/html"), 1000)
        XCTAssertEqual(AcceptHeader(",, text/html ,").quality(of: "text/html"), 1000)
    }

    func testWildcardsAndSpecificity() {
        let accept = AcceptHeader("text/*;q=0.3, text/html;q=0.7, */*;q=0.1")
        XCTAssertEqual(accept.quality(of: "text/html"), 700)
        XCTAssertEqual(accept.quality(of: "text/plain"), 300)
        XCTAssertEqual(accept.quality(of: "image/png"), 100)
        XCTAssertEqual(AcceptHeader("*;q=0.2").quality(of: "text/html"), 200, "a bare * is */*")
        XCTAssertEqual(AcceptHeader("*/html").ranges, [], "*/subtype is no media range")
    }

    func testMalformedElementsAreIgnoredNeverReadAsQ1() {
        for bad in ["text/html;q=abc", "text/html;q=2", "text/html;q=1.5", "text/html;q=0.1234", "text/html;q=",
                    "text/html;q=.5", "text/html;q=-0", "text/html;=1", "text/html;q", "html", "text/", "/html",
                    "te xt/html", "text/ht(ml", "text/html;q=0.5x"] {
            XCTAssertEqual(AcceptHeader(bad).ranges, [], bad)
            XCTAssertFalse(AcceptHeader(bad + ", application/xml").prefers("text/html", over: "application/xml"), bad)
        }
        XCTAssertEqual(AcceptHeader("text/html;q=1.").quality(of: "text/html"), 1000)
        XCTAssertEqual(AcceptHeader("text/html;q=1.000").quality(of: "text/html"), 1000)
        XCTAssertEqual(AcceptHeader("text/html;q=1.001").ranges, [])
        XCTAssertEqual(AcceptHeader("garbage, text/html;q=0.6").quality(of: "text/html"), 600, "one bad element spoils only itself")
        XCTAssertEqual(AcceptHeader("text/html").quality(of: "nonsense"), 0)
    }
}
