import XCTest
import Foundation
@testable import Outbound
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 origin on 127.0.0.1 (a free port): one thread accepts, one thread per
/// connection answers from a route table and closes. Every request line's target is logged.
final class TinyHTTPServer: @unchecked Sendable {
    struct Reply {
        var status: Int = 200
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// false: no Content-Length, the body ends when the connection closes.
        var contentLength = true
        /// Seconds to wait after the headers before sending the body.
        var stallSeconds: Double = 0
    }

    let port: Int
    /// 127.0.0.1:port and [::1]:port: `localhost` resolves to both, so no other process's
    /// listener on [::1]:port can answer a request meant for this server.
    private let listeners: [Int32]
    private let lock = NSLock()
    private var routes: [String: Reply] = [:]
    private var log: [String] = []
    private var received: [(head: String, body: [UInt8])] = []
    private var stopped = false

    init() throws {
        var found: (v4: Int32, v6: Int32, port: Int)?
        for _ in 0..<50 where found == nil {
            let v4 = try TinyHTTPServer.listen(family: AF_INET, port: 0)
            let port = TinyHTTPServer.boundPort(v4)
            if let v6 = try? TinyHTTPServer.listen(family: AF_INET6, port: port) {
                found = (v4, v6, port)
            } else {
                close(v4)
            }
        }
        guard let found else { throw POSIXError(.EADDRINUSE) }
        listeners = [found.v4, found.v6]
        port = found.port
        let server = self
        for listener in listeners { Thread.detachNewThread { server.acceptLoop(listener) } }
    }

    /// A listening socket on the loopback address of `family` (`port` 0: any free port).
    private static func listen(family: Int32, port: Int) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            address.sin6_addr = in6addr_loopback
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        return fd
    }

    private static func boundPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func route(_ path: String, _ reply: Reply) {
        lock.lock(); defer { lock.unlock() }
        routes[path] = reply
    }

    func redirect(_ path: String, to location: String, status: Int = 302) {
        route(path, Reply(status: status, headers: [("Location", location)]))
    }

    /// Requests received so far: the head (request line and headers) and the body
    /// (as long as its Content-Length says).
    var messages: [(head: String, body: [UInt8])] {
        lock.lock(); defer { lock.unlock() }
        return received
    }

    /// Request targets received so far (path and query).
    var requests: [String] {
        lock.lock(); defer { lock.unlock() }
        return log
    }

    func url(_ path: String, host: String = "localhost") -> String { "http://\(host):\(port)\(path)" }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        for listener in listeners {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                lock.lock(); let done = stopped; lock.unlock()
                if done { return }
                continue
            }
            let server = self
            Thread.detachNewThread { server.serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 65536 {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += buffer[0..<n]
            if head.count >= 4, String(decoding: head, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let headText = String(decoding: head, as: UTF8.self)
        let requestLine = headText.split(separator: "\r\n").first.map(String.init) ?? ""
        let headEnd = head.indices.first { head[$0...].starts(with: Array("\r\n\r\n".utf8)) }.map { $0 + 4 } ?? head.count
        let length = headText.split(separator: "\r\n").lazy.compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        var body = Array(head[headEnd...])
        while body.count < min(length, 1 << 20) {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            body += buffer[0..<n]
        }
        let parts = requestLine.split(separator: " ")
        let target = parts.count >= 2 ? String(parts[1]) : "/"
        let path = String(target.prefix { $0 != "?" })
        lock.lock()
        log.append(target)
        received.append((String(decoding: head[..<headEnd], as: UTF8.self), body))
        let reply = routes[path] ?? Reply(status: 404, headers: [("Content-Type", "text/plain")], body: Array("not found".utf8))
        lock.unlock()

        var text = "HTTP/1.1 \(reply.status) Status\r\nConnection: close\r\n"
        for (name, value) in reply.headers { text += "\(name): \(value)\r\n" }
        if reply.contentLength { text += "Content-Length: \(reply.body.count)\r\n" }
        text += "\r\n"
        guard send(all: Array(text.utf8), to: client) else { return }
        if reply.stallSeconds > 0 { usleep(UInt32(reply.stallSeconds * 1_000_000)) }
        _ = send(all: reply.body, to: client)
    }

    private func send(all bytes: [UInt8], to client: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }
}

final class HTTPFetcherTests: XCTestCase {
    var server: TinyHTTPServer!
    var scratch: String!

    override func setUpWithError() throws {
        server = try TinyHTTPServer()
        scratch = NSTemporaryDirectory() + "fetch-\(UUID().uuidString)"
    }

    override func tearDown() {
        server.stop()
        unlink(scratch)
    }

    let localhostOnly = AddressPolicy(allowedPrivateHosts: ["localhost"])

    func fetcher(maxBytes: Int64 = 1 << 30, timeoutSeconds: Int = 30, maxRedirects: Int = 5) -> HTTPFetcher {
        HTTPFetcher(policy: localhostOnly, limits: FetchLimits(maxBytes: maxBytes, timeoutSeconds: timeoutSeconds, maxRedirects: maxRedirects))
    }

    func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ ($0 >> 8)) }
    }

    func fileBytes() -> [UInt8] {
        FileManager.default.contents(atPath: scratch).map { [UInt8]($0) } ?? []
    }

    func assertFails(_ fetcher: HTTPFetcher, _ url: String, transient: Bool, mentioning: String,
                     reason: OutboundError.Reason? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try fetcher.download(url, to: scratch), url, file: file, line: line) { error in
            guard let outbound = error as? OutboundError else {
                return XCTFail("expected OutboundError, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(outbound.transient, transient, "\(outbound.description)", file: file, line: line)
            XCTAssertTrue(outbound.description.lowercased().contains(mentioning.lowercased()),
                          "\(outbound.description) should mention \(mentioning)", file: file, line: line)
            if let reason { XCTAssertEqual(outbound.reason, reason, "\(outbound.description)", file: file, line: line) }
        }
    }

    // MARK: success

    func testBodyIsWrittenToTheFile() throws {
        let body = bytes(300_000)
        server.route("/clip.mp4", .init(headers: [("Content-Type", "video/mp4; charset=binary")], body: body))
        let url = server.url("/clip.mp4")
        let result = try fetcher().download(url, to: scratch)
        XCTAssertEqual(result.sizeBytes, Int64(body.count))
        XCTAssertEqual(result.contentType, "video/mp4; charset=binary")
        XCTAssertEqual(result.finalURL, url)
        XCTAssertEqual(fileBytes(), body)
        XCTAssertEqual(server.requests, ["/clip.mp4"])
    }

    func testBodyWithoutContentLength() throws {
        let body = bytes(50_000, seed: 3)
        server.route("/stream", .init(body: body, contentLength: false))
        let result = try fetcher().download(server.url("/stream"), to: scratch)
        XCTAssertEqual(result.sizeBytes, Int64(body.count))
        XCTAssertEqual(fileBytes(), body)
    }

    func testAnExistingFileIsReplacedNotAppended() throws {
        _ = FileManager.default.createFile(atPath: scratch, contents: Data(repeating: 0xAA, count: 100_000))
        let body = bytes(1000)
        server.route("/small", .init(body: body))
        _ = try fetcher().download(server.url("/small"), to: scratch)
        XCTAssertEqual(fileBytes(), body)
    }

    // MARK: size limit

    func testSizeLimitWithContentLengthIsAFinalError() {
        server.route("/big", .init(body: bytes(5000)))
        assertFails(fetcher(maxBytes: 1000), server.url("/big"), transient: false, mentioning: "larger than the limit", reason: .tooLarge)
    }

    func testSizeLimitWithoutContentLengthIsAFinalError() {
        server.route("/big", .init(body: bytes(200_000), contentLength: false))
        assertFails(fetcher(maxBytes: 1000), server.url("/big"), transient: false, mentioning: "larger than the limit")
        XCTAssertLessThanOrEqual(fileBytes().count, 1000 + 65536, "the download stops near the limit")
    }

    func testBodyExactlyAtTheLimitIsAccepted() throws {
        let body = bytes(1000)
        server.route("/exact", .init(body: body))
        XCTAssertEqual(try fetcher(maxBytes: 1000).download(server.url("/exact"), to: scratch).sizeBytes, 1000)
        server.route("/exact-stream", .init(body: body, contentLength: false))
        XCTAssertEqual(try fetcher(maxBytes: 1000).download(server.url("/exact-stream"), to: scratch).sizeBytes, 1000)
        XCTAssertEqual(fileBytes(), body)
    }

    // MARK: HTTP errors

    func testNotFoundIsAFinalError() {
        assertFails(fetcher(), server.url("/nothing-here"), transient: false, mentioning: "404", reason: .httpStatus(404))
    }

    func testServerErrorsAreTransient() {
        server.route("/down", .init(status: 503, body: Array("busy".utf8)))
        assertFails(fetcher(), server.url("/down"), transient: true, mentioning: "503", reason: .httpStatus(503))
        server.route("/boom", .init(status: 500))
        assertFails(fetcher(), server.url("/boom"), transient: true, mentioning: "500")
    }

    func testConnectionRefusedIsTransient() throws {
        let closed = try TinyHTTPServer()
        let url = closed.url("/x")
        closed.stop()
        XCTAssertThrowsError(try fetcher().download(url, to: scratch)) { error in
            XCTAssertTrue((error as? OutboundError)?.transient == true, "\(error)")
            XCTAssertEqual((error as? OutboundError)?.reason, .network, "\(error)")
        }
    }

    func testStalledTransferTimesOut() {
        server.route("/stall", .init(body: bytes(1000), stallSeconds: 6))
        let start = Date()
        assertFails(fetcher(timeoutSeconds: 1), server.url("/stall"), transient: true, mentioning: "download failed", reason: .timeout)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    /// A job that lost its lease stops its download: the transfer is aborted while it waits,
    /// long before the time limit.
    func testStopAbortsARunningTransfer() {
        server.route("/stall", .init(body: bytes(1000), stallSeconds: 6))
        let start = Date()
        XCTAssertThrowsError(try fetcher(timeoutSeconds: 30).download(server.url("/stall"), to: scratch,
                                                                       shouldStop: { Date().timeIntervalSince(start) > 0.5 })) { error in
            XCTAssertEqual((error as? OutboundError)?.reason, .stopped, "\(error)")
        }
        let took = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(took, 0.5)
        XCTAssertLessThan(took, 3, "the stop was not obeyed")
    }

    // MARK: the guard

    func testFirstHopToLoopbackAddressIsRefusedBeforeConnecting() {
        server.route("/clip", .init(body: bytes(10)))
        for host in ["127.0.0.1", "127.1", "2130706433", "[::ffff:127.0.0.1]"] {
            assertFails(fetcher(), server.url("/clip", host: host), transient: false, mentioning: "non-public", reason: .blockedAddress)
        }
        XCTAssertEqual(server.requests, [])
    }

    func testRedirectToLoopbackIsRefused() {
        server.route("/clip", .init(body: bytes(10)))
        server.redirect("/to-loopback", to: server.url("/clip?via=redirect", host: "127.0.0.1"))
        assertFails(fetcher(), server.url("/to-loopback"), transient: false, mentioning: "127.0.0.1", reason: .blockedAddress)
        XCTAssertEqual(server.requests, ["/to-loopback"], "the loopback target was contacted")
    }

    func testRedirectToMetadataAndOtherSchemesIsRefused() {
        for (i, target) in ["http://169.254.169.254/latest/meta-data/", "http://[::1]:\(server.port)/clip",
                            "ftp://localhost/clip", "file:///etc/passwd", "gopher://localhost/"].enumerated() {
            server.redirect("/r\(i)", to: target)
            XCTAssertThrowsError(try fetcher().download(server.url("/r\(i)"), to: scratch), target) { error in
                XCTAssertEqual((error as? OutboundError)?.transient, false, "\(target): \(error)")
            }
        }
        XCTAssertFalse(String(decoding: fileBytes(), as: UTF8.self).contains("root:"))
    }

    func chain(_ hops: Int, tag: String, status: Int = 302) -> String {
        for i in stride(from: hops, to: 0, by: -1) {
            server.redirect("/\(tag)/\(i)", to: server.url(i > 1 ? "/\(tag)/\(i - 1)" : "/\(tag)/end"), status: status)
        }
        return server.url("/\(tag)/\(hops)")
    }

    func testRedirectsUpToTheLimitAreFollowed() throws {
        let body = bytes(4321)
        server.route("/a/end", .init(body: body))
        let result = try fetcher(maxRedirects: 2).download(chain(2, tag: "a"), to: scratch)
        XCTAssertEqual(result.sizeBytes, Int64(body.count))
        XCTAssertEqual(result.finalURL, server.url("/a/end"))
        XCTAssertEqual(fileBytes(), body)
        XCTAssertEqual(server.requests, ["/a/2", "/a/1", "/a/end"])
    }

    func testOneRedirectTooManyFails() {
        server.route("/b/end", .init(body: bytes(10)))
        assertFails(fetcher(maxRedirects: 2), chain(3, tag: "b"), transient: false, mentioning: "too many redirects",
                    reason: .tooManyRedirects)
        XCTAssertEqual(server.requests, ["/b/3", "/b/2", "/b/1"], "the target behind the limit is never fetched")
    }

    func testDefaultLimitIsFiveRedirects() throws {
        server.route("/c/end", .init(body: bytes(10)))
        server.route("/d/end", .init(body: bytes(10)))
        let defaults = HTTPFetcher(policy: localhostOnly)
        XCTAssertEqual(try defaults.download(chain(5, tag: "c", status: 301), to: scratch).sizeBytes, 10)
        assertFails(defaults, chain(6, tag: "d", status: 307), transient: false, mentioning: "too many redirects")
    }

    func testRelativeRedirectIsResolvedAgainstTheSameHost() throws {
        let body = bytes(777)
        server.route("/target", .init(body: body))
        server.redirect("/relative", to: "/target")
        let result = try fetcher().download(server.url("/relative"), to: scratch)
        XCTAssertEqual(result.finalURL, server.url("/target"))
        XCTAssertEqual(fileBytes(), body)
    }

    func testWithoutTheAllowanceLocalhostIsRefused() {
        server.route("/clip", .init(body: bytes(10)))
        assertFails(HTTPFetcher(policy: AddressPolicy()), server.url("/clip"), transient: false, mentioning: "non-public")
        XCTAssertEqual(server.requests, [])
    }
}
