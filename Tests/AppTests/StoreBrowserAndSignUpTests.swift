import Dialect
import Domain
import HTTPCore
import Support
@testable import StoreAPI
import XCTest

/// The store in a browser (the stylesheet instruction and `Vary: Accept`) and the opt-in sign-up.
final class StoreBrowserAndSignUpTests: AppTestCase {
    let browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    let instruction = #"<?xml-stylesheet type="text/xsl" href="/_xsl/store.xsl"?>"#

    func app(_ extra: [String] = []) throws -> StoreApp {
        let arguments = ["--socket", directory + "/app.sock", "--database", directory + "/store.sqlite",
                         "--data", directory + "/data"] + extra
        let settings = try HostSettings(OptionTable(program: "store-api", options: Host.options + StoreApp.options).parse(arguments))
        return try StoreApp(AppContext(db: context.db, host: settings))
    }

    func testBrowsersGetTheStylesheetAndEveryoneElseTheSameBytes() throws {
        let app = try app()
        for path in ["/api/items.xml", "/api/items", "/api/account.xml", "/api/nowhere.xml"] {
            let plain = app.handle(request("GET", path, headers: basic))
            let browser = app.handle(request("GET", path, headers: basic.merging(["accept": browserAccept]) { a, _ in a }))
            XCTAssertEqual(plain.status, browser.status, path)
            XCTAssertEqual(plain.header("Vary"), "Accept", path)
            XCTAssertEqual(browser.header("Vary"), "Accept", path)
            XCTAssertFalse(text(plain).contains("xml-stylesheet"), path)
            var lines = text(browser).components(separatedBy: "\n")
            XCTAssertEqual(lines[1], instruction, path)
            XCTAssertTrue(lines[2].hasPrefix("<?fetchgate-api-root"), path)
            lines.remove(at: 2)
            lines.remove(at: 1)
            XCTAssertEqual(lines.joined(separator: "\n"), text(plain), "only the instructions differ: \(path)")
        }
        for accept in ["*/*", "application/xml", "", "text/html;q=0.5, application/xml"] {
            let response = app.handle(request("GET", "/api/items", headers: basic.merging(["accept": accept]) { a, _ in a }))
            XCTAssertFalse(text(response).contains("xml-stylesheet"), accept)
        }
        // Failures too, before credentials are checked.
        let refused = app.handle(request("GET", "/api/orders.xml", headers: ["accept": browserAccept]))
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(text(refused).contains(instruction))
    }

    func testTheAPIRootLeadsBackToAPIFromAnyDepth() {
        XCTAssertEqual(XMLWire.apiRoot(of: "/api/items.xml"), "")
        XCTAssertEqual(XMLWire.apiRoot(of: "/api/items/A-1.xml"), "../")
        XCTAssertEqual(XMLWire.apiRoot(of: "/api/orders/7/downloads.xml"), "../../")
        XCTAssertEqual(XMLWire.apiRoot(of: "/elsewhere"), "/api/")
    }

    func testSignUpIsAnUnknownRouteUnlessAllowed() throws {
        let off = try app().handle(request("POST", "/api/account/create", body: "<account><name>N</name><email>n@x.example</email></account>",
                                           contentType: "application/xml"))
        let unknown = try app().handle(request("POST", "/api/account/nothing"))
        XCTAssertEqual(off.status, 404)
        XCTAssertEqual(text(off), text(unknown))
        XCTAssertEqual(try context.accounts.list().count, 1)
    }

    func testSignUpAnswersTheAccountWithAWorkingKeyAndToken() throws {
        let app = try app(["--allow-signup"])
        let created = app.handle(request("POST", "/api/account/create.xml", body: """
            <?xml version="1.0" encoding="UTF-8"?>
            <account><name>New Shop</name><first_name>Ada</first_name><last_name>L</last_name>
            <email>ada@new.example</email><url>https://new.example</url></account>
            """, contentType: "application/xml"))
        XCTAssertEqual(created.status, 201, text(created))
        let body = text(created)
        XCTAssertTrue(body.contains("<name>New Shop</name>"), body)
        let key = try XCTUnwrap(body.between("<api_key>", "</api_key>"))
        let token = try XCTUnwrap(body.between("<api_token>", "</api_token>"))
        let auth = ["authorization": "Basic " + Base64.encode(Array("\(key):\(token)".utf8))]
        let account = app.handle(request("GET", "/api/account", headers: auth))
        XCTAssertEqual(account.status, 200)
        XCTAssertTrue(text(account).contains("<email>ada@new.example</email>"))

        let again = app.handle(request("POST", "/api/account/create", body: "name=Other&email=ADA%40new.example",
                                       contentType: "application/x-www-form-urlencoded"))
        XCTAssertEqual(again.status, 422, text(again))
        XCTAssertTrue(text(again).contains("<message>email is already taken</message>"), text(again))
        let get = app.handle(request("GET", "/api/account/create"))
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(get.header("Allow"), "POST")
    }

    func testSignUpLimitAnswers429WithRetryAfter() throws {
        let app = try app(["--allow-signup", "--signup-limit", "1"])
        let first = app.handle(request("POST", "/api/account/create", body: "account[name]=A&account[email]=a@a.example",
                                       contentType: "application/x-www-form-urlencoded"))
        XCTAssertEqual(first.status, 201, text(first))
        let second = app.handle(request("POST", "/api/account/create", body: "account[name]=B&account[email]=b@b.example",
                                        contentType: "application/x-www-form-urlencoded"))
        XCTAssertEqual(second.status, 429, text(second))
        // The window's end, in whole seconds from now (the clock may tick between the two requests).
        XCTAssertTrue(["3599", "3600"].contains(second.header("Retry-After") ?? ""), second.header("Retry-After") ?? "none")
        XCTAssertEqual(try context.accounts.list().count, 2)
    }
}

private extension String {
    func between(_ start: String, _ end: String) -> String? {
        guard let a = range(of: start), let b = range(of: end, range: a.upperBound..<endIndex) else { return nil }
        return String(self[a.upperBound..<b.lowerBound])
    }
}
