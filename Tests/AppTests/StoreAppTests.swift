import Dialect
import HTTPCore
@testable import StoreAPI
import XCTest

/// The store dialect in-process: routing, authentication, errors and rendering.
final class StoreAppTests: AppTestCase {
    var app: StoreApp!

    override func setUpWithError() throws {
        try super.setUpWithError()
        app = try StoreApp(context)
    }

    func testUnauthenticatedIs401InXMLWithBasicChallenge() {
        let response = app.handle(request("GET", "/api/items"))
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.header("Content-Type"), "application/xml; charset=utf-8")
        XCTAssertEqual(response.header("WWW-Authenticate"), #"Basic realm="Fetchgate""#)
        XCTAssertTrue(text(response).contains("<message>Unauthorized: send HTTP Basic key:token</message>"), text(response))
        XCTAssertFalse(response.sendsContentLength, "store replies are framed by nginx")
    }

    func testCreateShowAndListAnItem() {
        let created = app.handle(request("POST", "/api/items", headers: basic,
                                         body: "<item><sku>A-1</sku><name>Alpha</name><price>2.5</price></item>",
                                         contentType: "application/xml"))
        XCTAssertEqual(created.status, 201, text(created))
        XCTAssertTrue(text(created).contains("<sku>A-1</sku>"))
        let shown = app.handle(request("GET", "/api/items/A-1.xml", headers: basic))
        XCTAssertEqual(shown.status, 200)
        XCTAssertTrue(text(shown).contains("<name>Alpha</name>"))
        XCTAssertTrue(text(shown).contains("<price type=\"float\">2.5</price>"), text(shown))
        let listed = app.handle(request("GET", "/api/items", headers: basic))
        XCTAssertTrue(text(listed).hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<items type=\"array\">"), text(listed))
    }

    func testCommandURIBeatsTheCaptureWhateverTheVerb() {
        for method in ["GET", "POST", "PUT"] {
            let response = app.handle(request(method, "/api/items/create", headers: basic,
                                              body: "item[sku]=V-\(method)", contentType: "application/x-www-form-urlencoded"))
            XCTAssertEqual(response.status, 201, "\(method): \(text(response))")
        }
    }

    func testErrorsRenderAsMessages() {
        let missing = app.handle(request("GET", "/api/items/NOPE", headers: basic))
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue(text(missing).contains("<message>Item NOPE not found</message>"), text(missing))
        let notAllowed = app.handle(request("DELETE", "/api/items", headers: basic))
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.header("Allow"), "GET, HEAD, POST")
        let malformed = app.handle(request("POST", "/api/items", headers: basic, body: "<item><sku>", contentType: "application/xml"))
        XCTAssertEqual(malformed.status, 400)
        XCTAssertTrue(text(malformed).contains("Malformed XML"), text(malformed))
        let unknown = app.handle(request("GET", "/nothing/here", headers: basic))
        XCTAssertEqual(unknown.status, 404)
    }

    func testNoMethodOverrideOnTheStore() {
        _ = app.handle(request("POST", "/api/items", headers: basic, body: "<item><sku>K</sku></item>", contentType: "application/xml"))
        let response = app.handle(request("POST", "/api/items/K", query: "_method=DELETE", headers: basic))
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(app.handle(request("GET", "/api/items/K", headers: basic)).status, 200)
    }

    func testCustomerLinkNeedsNoCredentialsAndAnswersAPage() {
        let response = app.handle(request("GET", "/get/unknown-guid"))
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(text(response).contains("Link not found"))
    }
}
