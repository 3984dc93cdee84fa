import XCTest
import Foundation
@testable import Outbound
#if canImport(Glibc)
import Glibc
#endif

/// `HTTPFetcher.post` (webhooks) against a loopback receiver: the status comes back whatever
/// it is, a redirect is never followed, and a refused address is never reached.
final class HTTPFetcherPostTests: XCTestCase {
    var server: TinyHTTPServer!
    let fetcher = HTTPFetcher(policy: AddressPolicy(allowedPrivateHosts: ["localhost"]))

    override func setUpWithError() throws { server = try TinyHTTPServer() }
    override func tearDown() { server.stop() }

    func header(_ name: String, in head: String) -> String? {
        head.split(separator: "\r\n").dropFirst().compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == name.lowercased() else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }.first
    }

    func testSendsTheHeadersAndTheBodyAndReturnsTheStatus() throws {
        server.route("/hook", .init(status: 204))
        let body = Array(#"{"id":"f1","status":"success","title":"caf\u00e9"}"#.utf8) + Array("é".utf8)
        let status = try fetcher.post(url: server.url("/hook?x=1"), headers: [("Content-Type", "application/json"),
                                                                                ("webhook-id", "msg_1"),
                                                                                ("webhook-timestamp", "1700000000")], body: body)
        XCTAssertEqual(status, 204)
        let messages = server.messages
        XCTAssertEqual(messages.count, 1)
        let head = try XCTUnwrap(messages.first?.head)
        XCTAssertTrue(head.hasPrefix("POST /hook?x=1 HTTP/1.1\r\n"), head)
        XCTAssertEqual(header("content-type", in: head), "application/json")
        XCTAssertEqual(header("webhook-id", in: head), "msg_1")
        XCTAssertEqual(header("webhook-timestamp", in: head), "1700000000")
        XCTAssertEqual(header("content-length", in: head), String(body.count))
        XCTAssertNil(header("expect", in: head), "the body goes without a 100-continue round trip")
        XCTAssertEqual(messages.first?.body, body)
    }

    func testEveryStatusIsReturnedAsItIs() throws {
        server.route("/ok", .init(status: 200, body: Array("thanks".utf8)))
        server.route("/gone", .init(status: 410))
        server.route("/boom", .init(status: 500))
        XCTAssertEqual(try fetcher.post(url: server.url("/ok"), headers: [], body: Array("{}".utf8)), 200)
        XCTAssertEqual(try fetcher.post(url: server.url("/gone"), headers: [], body: Array("{}".utf8)), 410)
        XCTAssertEqual(try fetcher.post(url: server.url("/boom"), headers: [], body: Array("{}".utf8)), 500)
        XCTAssertEqual(try fetcher.post(url: server.url("/missing"), headers: [], body: []), 404)
        XCTAssertEqual(server.messages.last?.body, [])
    }

    func testARedirectIsReturnedAndNotFollowed() throws {
        server.route("/target", .init(status: 200))
        server.redirect("/moved", to: server.url("/target"))
        server.redirect("/kept", to: server.url("/target"), status: 307)
        XCTAssertEqual(try fetcher.post(url: server.url("/moved"), headers: [], body: Array("{}".utf8)), 302)
        XCTAssertEqual(try fetcher.post(url: server.url("/kept"), headers: [], body: Array("{}".utf8)), 307)
        XCTAssertEqual(server.requests, ["/moved", "/kept"], "the redirect's target was contacted")
    }

    func testARefusedAddressIsNeverReached() {
        server.route("/hook", .init(status: 200))
        let hosts = ["127.0.0.1", "127.1", "2130706433", "[::ffff:127.0.0.1]", "[::1]"]
        for host in hosts {
            XCTAssertThrowsError(try fetcher.post(url: server.url("/hook", host: host), headers: [], body: Array("{}".utf8)), host) {
                XCTAssertEqual(($0 as? OutboundError)?.reason, .blockedAddress, "\(host): \($0)")
            }
        }
        // Without the tests' allowance, localhost is refused too.
        XCTAssertThrowsError(try HTTPFetcher(policy: AddressPolicy()).post(url: server.url("/hook"), headers: [], body: [])) {
            XCTAssertEqual(($0 as? OutboundError)?.reason, .blockedAddress, "\($0)")
        }
        for url in ["ftp://localhost/hook", "file:///etc/passwd", "not a url"] {
            XCTAssertThrowsError(try fetcher.post(url: url, headers: [], body: [])) {
                XCTAssertEqual(($0 as? OutboundError)?.reason, .invalidURL, "\(url): \($0)")
            }
        }
        XCTAssertEqual(server.requests, [])
    }

    func testAMalformedHeaderIsRefusedBeforeSending() {
        server.route("/hook", .init(status: 200))
        for header in [("webhook-id", "msg_1\r\nX-Injected: 1"), ("bad name", "x"), ("", "x"), ("a:b", "x")] {
            XCTAssertThrowsError(try fetcher.post(url: server.url("/hook"), headers: [header], body: []), "\(header)")
        }
        XCTAssertEqual(server.requests, [])
    }

    func testNoProxyFromTheEnvironment() throws {
        server.route("/hook", .init(status: 202))
        setenv("http_proxy", "http://127.0.0.1:9", 1)
        setenv("HTTP_PROXY", "http://127.0.0.1:9", 1)
        defer { unsetenv("http_proxy"); unsetenv("HTTP_PROXY") }
        XCTAssertEqual(try fetcher.post(url: server.url("/hook"), headers: [], body: Array("{}".utf8)), 202)
        XCTAssertEqual(server.requests, ["/hook"])
    }

    func testALongResponseIsCutOffAndItsStatusKept() throws {
        server.route("/chatty", .init(status: 200, body: [UInt8](repeating: 0x61, count: 4 << 20)))
        XCTAssertEqual(try fetcher.post(url: server.url("/chatty"), headers: [], body: Array("{}".utf8)), 200)
        server.route("/chatty-stream", .init(status: 503, body: [UInt8](repeating: 0x61, count: 4 << 20), contentLength: false))
        XCTAssertEqual(try fetcher.post(url: server.url("/chatty-stream"), headers: [], body: Array("{}".utf8)), 503)
    }

    func testNoAnswerInTimeIsATimeout() {
        server.route("/slow", .init(status: 200, body: Array("late".utf8), stallSeconds: 6))
        let start = Date()
        XCTAssertThrowsError(try fetcher.post(url: server.url("/slow"), headers: [], body: [], timeoutSeconds: 1)) {
            XCTAssertEqual(($0 as? OutboundError)?.reason, .timeout, "\($0)")
            XCTAssertEqual(($0 as? OutboundError)?.transient, true)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testAClosedPortIsANetworkFailure() throws {
        let closed = try TinyHTTPServer()
        let url = closed.url("/hook")
        closed.stop()
        XCTAssertThrowsError(try fetcher.post(url: url, headers: [], body: [])) {
            XCTAssertEqual(($0 as? OutboundError)?.reason, .network, "\($0)")
        }
    }
}
