import XCTest
@testable import Egress

final class ProxyRequestHeadTests: XCTestCase {
    private func parse(_ text: String) -> ProxyRequestHead.Parsed { ProxyRequestHead.parse(Array(text.utf8)) }

    private func head(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ProxyRequestHead? {
        guard case .complete(let head) = parse(text) else {
            XCTFail("not a complete head: \(parse(text))", file: file, line: line)
            return nil
        }
        return head
    }

    private func problem(_ text: String) -> String? {
        if case .invalid(let message) = parse(text) { return message }
        return nil
    }

    func testAbsoluteFormIsForwardedInOriginFormWithConnectionClose() throws {
        let text = "GET http://Example.COM:8080/a/b?c=d HTTP/1.1\r\nHost: other.example\r\nUser-Agent: yt-dlp\r\n"
            + "Proxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive, X-Secret\r\n"
            + "Keep-Alive: timeout=5\r\nX-Secret: 1\r\nTE: trailers\r\nUpgrade: h2c\r\nAccept: */*\r\n\r\nbody"
        let head = try XCTUnwrap(head(text))
        XCTAssertEqual(head.method, "GET")
        XCTAssertEqual(head.target, .http(host: "example.com", port: 8080, path: "/a/b?c=d"))
        XCTAssertEqual(head.headLength, text.utf8.count - 4)
        XCTAssertEqual(head.contentLength, 0)
        XCTAssertEqual(String(decoding: head.forwardedHead(), as: UTF8.self),
                       "GET /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: yt-dlp\r\nAccept: */*\r\nConnection: close\r\n\r\n")
    }

    func testDefaultPortEmptyPathAndQueryOnlyTargets() throws {
        XCTAssertEqual(try XCTUnwrap(head("GET http://a.test HTTP/1.0\r\n\r\n")).target, .http(host: "a.test", port: 80, path: "/"))
        XCTAssertEqual(try XCTUnwrap(head("GET HTTP://a.test?x=1 HTTP/1.1\r\n\r\n")).target, .http(host: "a.test", port: 80, path: "/?x=1"))
        XCTAssertEqual(try XCTUnwrap(head("GET http://a.test/p#frag HTTP/1.1\r\n\r\n")).target, .http(host: "a.test", port: 80, path: "/p"))
        let forwarded = String(decoding: try XCTUnwrap(head("GET http://a.test/ HTTP/1.1\r\n\r\n")).forwardedHead(), as: UTF8.self)
        XCTAssertEqual(forwarded, "GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
    }

    func testNumericAndIPv6HostSpellingsReachThePolicyAsAsked() throws {
        XCTAssertEqual(try XCTUnwrap(head("GET http://2130706433/ HTTP/1.1\r\n\r\n")).host, "2130706433")
        XCTAssertEqual(try XCTUnwrap(head("GET http://0x7f.1:81/ HTTP/1.1\r\n\r\n")).host, "0x7f.1")
        let mapped = try XCTUnwrap(head("GET http://[::FFFF:127.0.0.1]:9/x HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(mapped.target, .http(host: "::ffff:127.0.0.1", port: 9, path: "/x"))
        XCTAssertEqual(String(decoding: mapped.forwardedHead(), as: UTF8.self), "GET /x HTTP/1.1\r\nHost: [::ffff:127.0.0.1]:9\r\nConnection: close\r\n\r\n")
    }

    func testConnectNeedsHostAndPort() throws {
        let head = try XCTUnwrap(head("CONNECT video.example:443 HTTP/1.1\r\nHost: video.example:443\r\n\r\n\u{16}\u{03}"))
        XCTAssertEqual(head.target, .connect(host: "video.example", port: 443))
        XCTAssertEqual(head.forwardedHead(), [])
        XCTAssertEqual(try XCTUnwrap(self.head("CONNECT [::1]:8443 HTTP/1.1\r\n\r\n")).target, .connect(host: "::1", port: 8443))
        XCTAssertEqual(problem("CONNECT video.example HTTP/1.1\r\n\r\n"), "CONNECT needs host:port")
        XCTAssertEqual(problem("CONNECT video.example:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), "CONNECT with a body")
    }

    func testPortsOutside1To65535AreRefused() throws {
        XCTAssertEqual(try XCTUnwrap(head("GET http://a.test:1/ HTTP/1.1\r\n\r\n")).port, 1)
        XCTAssertEqual(try XCTUnwrap(head("GET http://a.test:65535/ HTTP/1.1\r\n\r\n")).port, 65535)
        for port in ["0", "65536", "", "+80", "8O", "000080"] {
            XCTAssertEqual(problem("GET http://a.test:\(port)/ HTTP/1.1\r\n\r\n"), "bad port", port)
        }
    }

    func testMalformedOrUnservedHeadsAreRefusedWithTheirReason() {
        let notServed = "only absolute http:// targets and CONNECT are served"
        var cases: [(String, String)] = ["https://a.test/", "ftp://a.test/f", "file:///etc/passwd", "/relative", "*", "http:/a.test", "http://"]
            .map { ("GET \($0) HTTP/1.1\r\n\r\n", notServed) }
        cases += [
            ("GET http://user:pw@a.test/ HTTP/1.1\r\n\r\n", "userinfo is not accepted"),
            ("GET http://127.0.0.2@a.test/ HTTP/1.1\r\n\r\n", "userinfo is not accepted"),
            ("GET http://a%2etest/ HTTP/1.1\r\n\r\n", "bad host"),
            ("GET http:///x HTTP/1.1\r\n\r\n", "bad host"),
            ("GET http://[::1/ HTTP/1.1\r\n\r\n", "unclosed IPv6 literal"),
            ("GET http://[::1%25eth0]/ HTTP/1.1\r\n\r\n", "bad IPv6 literal"),
            ("GET http://\(String(repeating: "a", count: 254))/ HTTP/1.1\r\n\r\n", "host name too long"),
            ("GET  http://a.test/ HTTP/1.1\r\n\r\n", "the request line is not METHOD TARGET VERSION"),
            ("GET http://a.test/ HTTP/2\r\n\r\n", "only HTTP/1.0 and HTTP/1.1"),
            ("G(T http://a.test/ HTTP/1.1\r\n\r\n", "bad method"),
            ("GET http://a.test/\u{7f} HTTP/1.1\r\n\r\n", "bad request target"),
            ("GET http://a.test/ HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n", "folded header lines are not accepted"),
            ("GET http://a.test/ HTTP/1.1\r\nNoColon\r\n\r\n", "a header line without a colon"),
            ("GET http://a.test/ HTTP/1.1\r\nBad Name: 1\r\n\r\n", "bad header name"),
            ("GET http://a.test/ HTTP/1.1\r\nX: a\nInjected: 1\r\n\r\n", "control bytes in a header value"),
            ("GET http://a.test/ HTTP/1.1\r\nX: a\rb\r\n\r\n", "control bytes in a header value"),
            ("\r\n\r\n", "empty request"),
        ]
        for (request, reason) in cases {
            XCTAssertEqual(problem(request), reason, request)
        }
    }

    func testBodiesByContentLengthOnly() throws {
        let post = try XCTUnwrap(head("POST http://a.test/api HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\nhello"))
        XCTAssertEqual(post.contentLength, 5)
        XCTAssertEqual(problem("POST http://a.test/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), "two different Content-Length values")
        for value in ["-1", "", "1 2", "0x10", "1234567890123456"] {
            XCTAssertEqual(problem("POST http://a.test/ HTTP/1.1\r\nContent-Length: \(value)\r\n\r\n"), "bad Content-Length", value)
        }
        XCTAssertEqual(problem("POST http://a.test/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                       "request bodies with Transfer-Encoding are not forwarded")
    }

    func testHeadSizeLimitOnBothSides() {
        let start = "GET http://a.test/ HTTP/1.1\r\nX: "
        let end = "\r\n\r\n"
        let fits = start + String(repeating: "a", count: ProxyRequestHead.maxHeadBytes - start.utf8.count - end.utf8.count) + end
        XCTAssertEqual(fits.utf8.count, ProxyRequestHead.maxHeadBytes)
        guard case .complete(let head) = parse(fits) else { return XCTFail("a head of exactly the limit is read") }
        XCTAssertEqual(head.headLength, ProxyRequestHead.maxHeadBytes)
        let over = start + String(repeating: "a", count: ProxyRequestHead.maxHeadBytes - start.utf8.count - end.utf8.count + 1) + end
        XCTAssertEqual(parse(over), .tooLarge)
        XCTAssertEqual(parse(start + String(repeating: "a", count: ProxyRequestHead.maxHeadBytes)), .tooLarge)
        XCTAssertEqual(parse("GET http://a.test/ HTTP/1.1\r\nX: 1\r\n"), .incomplete)
        XCTAssertEqual(parse(""), .incomplete)
    }

    func testResponseHeadGetsConnectionClose() {
        let response = Array("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok".utf8)
        XCTAssertNil(EgressGuard.closingResponseHead(Array(response.prefix(20))))
        XCTAssertEqual(EgressGuard.closingResponseHead(response).map { String(decoding: $0, as: UTF8.self) },
                       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    }
}
