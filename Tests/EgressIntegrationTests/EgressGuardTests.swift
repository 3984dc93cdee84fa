import XCTest
import Foundation
@testable import Egress
import Outbound
#if canImport(Glibc)
import Glibc
#endif

/// The running guard between real clients (curl, raw sockets) and real loopback origins: the
/// allowed origin listens on 127.0.0.1 and is asked for as `localhost` (the one allowed private
/// host); the refused origin listens on 127.0.0.2 and must never see a connection.
final class EgressGuardTests: GuardedOriginsTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        allowed.route("/hello", .init(headers: [("Content-Type", "text/plain")], body: Array("hello".utf8)))
        forbidden.route("/never", .init(body: Array("reached".utf8)))
        forbidden.route("/landed", .init(body: Array("reached".utf8)))
    }

    /// curl with only the proxy we name (no proxy variables, none bypassed): status, headers + body.
    private func curl(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(["/usr/bin/curl", "-sS", "--noproxy", "", "--proxy", egress.proxyURL] + arguments, environment: ["PATH": "/usr/bin:/bin"])
    }

    func testProxyURLNamesTheLoopbackPort() {
        XCTAssertEqual(egress.proxyURL, "http://127.0.0.1:\(port)")
        XCTAssertGreaterThan(port, 0)
    }

    func testAnAllowedHostIsFetchedAndTheOriginSeesOneOriginFormRequest() throws {
        let result = try curl(["-i", "-H", "Proxy-Authorization: Basic eDp5", allowed.url("/hello", host: "localhost")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("HTTP/1.1 200 Status\r\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\r\nConnection: close\r\n"), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("\r\n\r\nhello"), result.stdout)
        XCTAssertEqual(allowed.targets, ["/hello"])
        let request = try XCTUnwrap(allowed.requests.first)
        XCTAssertTrue(request.hasPrefix("GET /hello HTTP/1.1\r\nHost: localhost:\(allowed.port)\r\n"), request)
        XCTAssertTrue(request.hasSuffix("Connection: close\r\n\r\n"), request)
        XCTAssertFalse(request.lowercased().contains("proxy-"), request)
        XCTAssertEqual(egress.refusals.count, 0)
    }

    func testEverySpellingOfANonPublicAddressIsRefusedBeforeAnyConnection() throws {
        let cases: [(spelling: String, host: String, port: Int)] = [
            ("127.0.0.2", "127.0.0.2", forbidden.port),
            ("169.254.169.254", "169.254.169.254", 80),
            ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1", allowed.port),
            ("2130706433", "2130706433", allowed.port),
            ("0x7f.1", "0x7f.1", allowed.port),
            ("127.0.0.1", "127.0.0.1", allowed.port),
        ]
        for item in cases {
            let answer = exchange(port: port, "GET http://\(item.spelling):\(item.port)/never HTTP/1.1\r\nHost: localhost\r\n\r\n")
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "\(item.spelling): \(answer)")
            XCTAssertTrue(answer.contains("\r\nX-Fetchgate-Refused: blocked_address\r\n"), answer)
        }
        // curl's own spellings, through its proxy code path.
        for url in [forbidden.url("/never"), "http://[::ffff:127.0.0.1]:\(allowed.port)/never"] {
            let result = try curl(["-o", "/dev/null", "-w", "%{http_code}", url])
            XCTAssertEqual(result.stdout, "403", url)
        }
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertEqual(allowed.connections, 0)
        let refusals = egress.refusals
        XCTAssertEqual(refusals.map(\.host), cases.map(\.host) + ["127.0.0.2", "::ffff:127.0.0.1"])
        XCTAssertTrue(refusals.allSatisfy { $0.reason == .blockedAddress })
        XCTAssertEqual(refusals[0].detail, "refusing to fetch from 127.0.0.2: it resolves to the non-public address 127.0.0.2")
    }

    func testARedirectFromTheAllowedOriginToARefusedAddressIsRefused() throws {
        allowed.route("/hop", .init(status: 302, headers: [("Location", forbidden.url("/landed"))]))
        let result = try curl(["-L", "-o", "/dev/null", "-w", "%{http_code} %{num_redirects}", allowed.url("/hop", host: "localhost")])
        XCTAssertEqual(result.stdout, "403 1")
        XCTAssertEqual(allowed.targets, ["/hop"])
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertEqual(egress.refusals.map(\.host), ["127.0.0.2"])
    }

    func testConnectTunnelsToAnAllowedHostAndIsRefusedForANonPublicOne() throws {
        let tunnelled = exchange(port: port, "CONNECT localhost:\(allowed.port) HTTP/1.1\r\nHost: localhost:\(allowed.port)\r\n\r\n"
            + "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(tunnelled.hasPrefix("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 Status\r\n"), tunnelled)
        XCTAssertTrue(tunnelled.hasSuffix("\r\n\r\nhello"), tunnelled)
        XCTAssertEqual(allowed.targets, ["/hello"])

        let refused = exchange(port: port, "CONNECT 127.0.0.2:\(forbidden.port) HTTP/1.1\r\n\r\nGET /never HTTP/1.1\r\n\r\n")
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 403 Forbidden\r\nX-Fetchgate-Refused: blocked_address\r\n"), refused)
        let viaCurl = try curl(["-p", "-o", "/dev/null", "-w", "%{http_connect}", forbidden.url("/never")])
        XCTAssertEqual(viaCurl.stdout, "403")
        XCTAssertEqual(viaCurl.status, 56)
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertEqual(egress.refusals.map(\.host), ["127.0.0.2", "127.0.0.2"])
    }

    func testAKeptAliveClientConnectionCarriesOneRequestToOneHost() throws {
        // Two requests pipelined on one connection: the first is answered, the second goes nowhere.
        let answer = exchange(port: port, "GET http://localhost:\(allowed.port)/hello HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"
            + "GET http://127.0.0.2:\(forbidden.port)/never HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n"
            + "GET http://localhost:\(allowed.port)/second HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(answer.components(separatedBy: "HTTP/1.1 ").count - 1, 1, answer)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 Status\r\n") && answer.hasSuffix("hello"), answer)
        XCTAssertTrue(answer.contains("\r\nConnection: close\r\n"), answer)
        XCTAssertEqual(allowed.targets, ["/hello"])
        XCTAssertFalse(allowed.requests[0].contains("/never") || allowed.requests[0].contains("/second"), allowed.requests[0])
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertEqual(egress.refusals.count, 0)

        // curl asked for two URLs, one allowed and one refused: each gets a connection of its own, each checked.
        let result = try curl(["-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\n",
                               allowed.url("/hello", host: "localhost"), forbidden.url("/never")])
        XCTAssertEqual(result.stdout, "200 1\n403 1\n")
        XCTAssertEqual(forbidden.connections, 0)
        XCTAssertEqual(egress.refusals.map(\.host), ["127.0.0.2"])
    }

    func testMalformedAndUnservedRequestsAre400AndAnOversizedHeadIs431() throws {
        let cases = ["GET ftp://localhost/x HTTP/1.1\r\n\r\n", "GET file:///etc/passwd HTTP/1.1\r\n\r\n",
                     "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n", "GET http://localhost:0/ HTTP/1.1\r\n\r\n",
                     "GET http://localhost:65536/ HTTP/1.1\r\n\r\n", "POST http://localhost:\(allowed.port)/hello HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"]
        for request in cases {
            let answer = exchange(port: port, request)
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\nX-Fetchgate-Refused: bad_request\r\n"), "\(request): \(answer)")
        }
        let huge = exchange(port: port, "GET http://localhost:\(allowed.port)/hello HTTP/1.1\r\nX: \(String(repeating: "a", count: 17_000))\r\n\r\n")
        XCTAssertTrue(huge.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), huge)
        XCTAssertEqual(allowed.connections, 0)
        XCTAssertEqual(egress.refusals.count, cases.count + 1)
        XCTAssertTrue(egress.refusals.allSatisfy { $0.reason == .invalidURL && $0.host.isEmpty })
    }

    func testARequestBodyIsForwardedByContentLength() throws {
        allowed.route("/post", .init(body: Array("ok".utf8)))
        let result = try curl(["-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "abc=1", allowed.url("/post", host: "localhost")])
        XCTAssertEqual(result.stdout, "200")
        let request = try XCTUnwrap(allowed.requests.first)
        XCTAssertTrue(request.hasPrefix("POST /post HTTP/1.1\r\n") && request.hasSuffix("\r\n\r\nabc=1"), request)
    }

    func testAnOriginThatKeepsTheConnectionOpenDoesNotHoldTheClient() throws {
        allowed.route("/sticky", .init(headers: [("Connection", "keep-alive"), ("Keep-Alive", "timeout=600")], body: Array("sticky".utf8), ignoreClose: true))
        let started = Date()
        let result = try curl(["-i", allowed.url("/sticky", host: "localhost")])
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the client is told Connection: close and leaves; the guard follows")
        XCTAssertEqual(result.stdout, "HTTP/1.1 200 Status\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsticky")
    }

    func testAClientThatStallsInItsHeadIsClosedAfterTheIdleTimeout() throws {
        let quick = EgressGuard(policy: AddressPolicy(allowedPrivateHosts: ["localhost"]), connectTimeoutSeconds: 1, idleTimeoutSeconds: 1)
        let quickPort = try quick.start()
        defer { quick.stop() }
        let started = Date()
        XCTAssertEqual(exchange(port: quickPort, "GET http://localhost:\(allowed.port)/hello HTTP/1.1\r\nX-Slow: 1\r\n"), "")
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(waited, 0.9)
        XCTAssertLessThan(waited, 3)
        XCTAssertEqual(allowed.connections, 0)
    }

    func testTheConnectionLimitAnswers503AtSixtyFiveAndStopClosesEverything() throws {
        var idle = (0..<(EgressGuard.maxConnections - 1)).map { _ in connectToLoopback(port: port) }
        defer { for fd in idle { close(fd) } }
        usleep(300_000)
        let sixtyFourth = exchange(port: port, "GET http://localhost:\(allowed.port)/hello HTTP/1.1\r\n\r\n")
        XCTAssertTrue(sixtyFourth.hasPrefix("HTTP/1.1 200 Status\r\n"), sixtyFourth)
        idle.append(connectToLoopback(port: port))
        usleep(300_000)
        let sixtyFifth = exchange(port: port, "")
        XCTAssertTrue(sixtyFifth.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), sixtyFifth)
        XCTAssertEqual(allowed.targets, ["/hello"])

        let started = Date()
        egress.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        var byte: UInt8 = 0
        XCTAssertEqual(recv(idle[0], &byte, 1, 0), 0, "an idle client connection is closed by stop()")
        XCTAssertEqual(exchange(port: port, "GET http://localhost:\(allowed.port)/hello HTTP/1.1\r\n\r\n"), "", "nothing listens after stop()")
    }

    func testStopEndsAnOpenTunnel() throws {
        let fd = connectToLoopback(port: port)
        defer { close(fd) }
        let request = Array("CONNECT localhost:\(allowed.port) HTTP/1.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var reply = [UInt8](repeating: 0, count: 256)
        let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        XCTAssertEqual(String(decoding: reply[0..<max(n, 0)], as: UTF8.self), "HTTP/1.1 200 Connection established\r\n\r\n")
        let started = Date()
        egress.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertEqual(reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }, 0)
    }
}
