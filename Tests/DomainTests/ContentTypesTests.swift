import XCTest
import Domain

final class ContentTypesTests: XCTestCase {
    func testValidTypesAreKeptWithEssenceLowerCased() {
        XCTAssertEqual(ContentTypes.validated("text/plain"), "text/plain")
        XCTAssertEqual(ContentTypes.validated(" TEXT/Plain; charset=UTF-8 "), "text/plain; charset=UTF-8")
        XCTAssertEqual(ContentTypes.validated("application/vnd.api+json;q=\"a \\\" b\""), "application/vnd.api+json;q=\"a \\\" b\"")
        XCTAssertEqual(ContentTypes.validated("audio/x-" + String(repeating: "a", count: 247))?.utf8.count, 255)
    }

    func testInvalidTypesAreRefused() {
        for bad in ["", "text", "text/", "/plain", "text/pl ain", "text/plain;", "text/plain; a", "text/plain; =b",
                    "text/plain; a=\"open", "text/plain\u{0}", "text/plain\r\nX-Evil: 1", "tëxt/plain",
                    "audio/x-" + String(repeating: "a", count: 248)] {
            XCTAssertNil(ContentTypes.validated(bad), bad)
        }
    }

    func testNormalizeFallsBackToTheExtension() {
        XCTAssertEqual(ContentTypes.normalize("audio/x-" + String(repeating: "a", count: 10_000), filename: "song.mp3"), "audio/mpeg")
        XCTAssertEqual(ContentTypes.normalize("application/octet-stream", filename: "a.pdf"), "application/pdf")
        XCTAssertEqual(ContentTypes.normalize(nil, filename: "noext"), "application/octet-stream")
        XCTAssertEqual(ContentTypes.normalize("image/png", filename: "a.pdf"), "image/png")
    }
}
