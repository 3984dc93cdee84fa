import XCTest
import Foundation
import Egress
import Outbound
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 origin bound to one loopback address (127.0.0.1, or 127.0.0.2 as the
/// address the guard must refuse), on a free port. Every accepted connection is counted and every
/// request's raw bytes are kept, so a test can show that a refused target was never reached.
final class LoopbackOrigin: @unchecked Sendable {
    struct Reply {
        var status = 200
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// Keep the connection open after the reply even when the request said `Connection: close`.
        var ignoreClose = false
    }

    let address: String
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var routes: [String: Reply] = [:]
    private var connectionCount = 0
    private var received: [[UInt8]] = []
    private var stopped = false

    init(address: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = inet_addr(address)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.address = address
        listener = fd
        port = Int(UInt16(bigEndian: sin.sin_port))
        let origin = self
        Thread.detachNewThread { origin.acceptLoop() }
    }

    func route(_ path: String, _ reply: Reply) {
        lock.lock(); defer { lock.unlock() }
        routes[path] = reply
    }

    func url(_ path: String, host: String? = nil) -> String { "http://\(host ?? address):\(port)\(path)" }

    /// Connections accepted so far.
    var connections: Int { lock.lock(); defer { lock.unlock() }; return connectionCount }

    /// The bytes read from each connection so far, as text.
    var requests: [String] { lock.lock(); defer { lock.unlock() }; return received.map { String(decoding: $0, as: UTF8.self) } }

    /// Request lines' targets so far.
    var targets: [String] { requests.map { String($0.split(separator: " ").dropFirst().first ?? "") } }

    func stop() {
        lock.lock(); stopped = true; lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            lock.lock()
            if stopped { lock.unlock(); if client >= 0 { close(client) }; return }
            if client >= 0 { connectionCount += 1; received.append([]) }
            let index = received.count - 1
            lock.unlock()
            if client < 0 { continue }
            let origin = self
            Thread.detachNewThread { origin.serve(client, index: index) }
        }
    }

    private func serve(_ client: Int32, index: Int) {
        defer { close(client) }
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while !String(decoding: head, as: UTF8.self).contains("\r\n\r\n") && head.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += chunk[0..<n]
            lock.lock(); received[index] = head; lock.unlock()
        }
        // Then the body, by Content-Length.
        let headText = String(decoding: head, as: UTF8.self)
        let headBytes = (headText.range(of: "\r\n\r\n").map { headText[..<$0.upperBound].utf8.count }) ?? head.count
        let declared = headText.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        while head.count < headBytes + declared {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += chunk[0..<n]
            lock.lock(); received[index] = head; lock.unlock()
        }
        let requestLine = headText.split(separator: "\r\n").first ?? ""
        let parts = requestLine.split(separator: " ")
        let method = parts.first.map(String.init) ?? "GET"
        let target = parts.count > 1 ? String(parts[1]) : "/"
        lock.lock()
        let reply = routes[String(target.prefix { $0 != "?" })] ?? Reply(status: 404, body: Array("not found".utf8))
        lock.unlock()
        var text = "HTTP/1.1 \(reply.status) Status\r\nContent-Length: \(reply.body.count)\r\n"
        for (name, value) in reply.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if method != "HEAD" { bytes += reply.body }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
        // A request without `Connection: close` is kept alive from the origin's side: wait for the
        // peer to close (or for a second request's bytes, which are kept).
        if !reply.ignoreClose && String(decoding: head, as: UTF8.self).lowercased().contains("\r\nconnection: close\r\n") { return }
        let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        if n > 0 { lock.lock(); received[index] += chunk[0..<n]; lock.unlock() }
    }
}

/// Runs a program (no shell) and returns its exit status and output.
func runProgram(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    final class Collected: @unchecked Sendable { var bytes = Data() }
    let stderr = Collected()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { [handle = err.fileHandleForReading] in stderr.bytes = handle.readDataToEndOfFile(); group.leave() }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr.bytes, as: UTF8.self))
}

/// A TCP connection to 127.0.0.1:port (the guard); -1 if nothing listens there.
func connectToLoopback(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = UInt16(port).bigEndian
    sin.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { close(fd); return -1 }
    return fd
}

/// Writes `request` to the guard on one connection and reads until the guard closes it.
func exchange(port: Int, _ request: String, timeoutSeconds: Int = 10) -> String {
    let fd = connectToLoopback(port: port)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        answer += chunk[0..<n]
    }
    return String(decoding: answer, as: UTF8.self)
}

/// A running guard that allows `localhost` (the origin on 127.0.0.1) and an origin on 127.0.0.2
/// that every test shows was never reached.
class GuardedOriginsTestCase: XCTestCase {
    var allowed: LoopbackOrigin!
    var forbidden: LoopbackOrigin!
    var egress: EgressGuard!
    var port = 0

    override func setUpWithError() throws {
        allowed = try LoopbackOrigin(address: "127.0.0.1")
        forbidden = try LoopbackOrigin(address: "127.0.0.2")
        egress = EgressGuard(policy: AddressPolicy(allowedPrivateHosts: ["localhost"]), connectTimeoutSeconds: 5, idleTimeoutSeconds: 20)
        port = try egress.start()
    }

    override func tearDown() {
        egress.stop()
        allowed.stop()
        forbidden.stop()
    }
}
