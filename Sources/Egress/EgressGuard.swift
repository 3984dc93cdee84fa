import Foundation
import Outbound
import Support
#if canImport(Glibc)
import Glibc
#endif

/// The egress guard: a forward proxy on 127.0.0.1 that yt-dlp (and the ffmpeg it starts) are
/// pointed at with `--proxy`, so every connection they open is checked when it is opened, by
/// `AddressPolicy.checkedAddresses` (the rule URL imports use): the guard resolves the name
/// itself, refuses if any address is not public (unless the host is one of the policy's
/// `allowedPrivateHosts`), and connects only to an address it checked.
///
/// Served: absolute-form `http://` requests, forwarded in origin-form with hop-by-hop and
/// `Proxy-*` headers dropped and `Connection: close` both ways (one proxied request per client
/// connection, so a kept-alive connection never reaches a second host), and `CONNECT host:port`
/// tunnels. Refusals answer 403 with `X-Fetchgate-Refused: blocked_address` (a name that does not
/// resolve: 502, `unresolvable`; a malformed request: 400, a head over 16 KiB: 431, both
/// `bad_request`) and are kept in `refusals`. One thread per connection, at most
/// `maxConnections` at once (503 beyond), a connect and an idle timeout.
public final class EgressGuard: @unchecked Sendable {
    public struct Refusal: Sendable {
        /// The host as the client asked for it (empty when the request could not be read).
        public let host: String
        public let reason: OutboundError.Reason
        public let detail: String
    }

    public static let maxConnections = 64
    /// `refusals` keeps the first this many.
    public static let maxRefusalsKept = 256

    private let policy: AddressPolicy
    private let connectTimeoutSeconds: Int
    private let idleTimeoutSeconds: Int

    private let lock = NSLock()
    private var listener: Int32 = -1
    private var boundPort = 0
    private var stopping = false
    private var acceptThread: WorkerThread?
    /// Open sockets by connection id: what stop() shuts down. A socket is closed only under the
    /// lock, after leaving this table, so stop() never touches a reused descriptor.
    private var sockets: [Int: [Int32]] = [:]
    private var threads: [Int: WorkerThread] = [:]
    private var finished: [Int] = []
    private var nextID = 0
    private var refusalLog: [Refusal] = []

    /// policy: the same AddressPolicy value as imports (allowedPrivateHosts by name).
    public init(policy: AddressPolicy, connectTimeoutSeconds: Int = 15, idleTimeoutSeconds: Int = 60) {
        self.policy = policy
        self.connectTimeoutSeconds = max(1, connectTimeoutSeconds)
        self.idleTimeoutSeconds = max(1, idleTimeoutSeconds)
    }

    deinit { stop() }

    /// Listens on 127.0.0.1, an ephemeral port; serves on threads of its own until stop().
    public func start() throws -> Int {
        lock.lock(); defer { lock.unlock() }
        if listener >= 0 { return boundPort }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 128) == 0,
              withUnsafeMutablePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }) == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        listener = fd
        boundPort = Int(UInt16(bigEndian: address.sin_port))
        stopping = false
        acceptThread = WorkerThread { [self] in acceptLoop(fd) }
        return boundPort
    }

    public var proxyURL: String {
        lock.lock(); defer { lock.unlock() }
        return "http://127.0.0.1:\(boundPort)"
    }

    /// Every refused request since start: host (as asked), and why (blocked address / bad request / unresolvable).
    public var refusals: [Refusal] {
        lock.lock(); defer { lock.unlock() }
        return refusalLog
    }

    /// The refusals of non-public addresses: any of them fails a run that went through the guard
    /// (unresolvable names and malformed requests are the client's own failures).
    public var blocked: [Refusal] { refusals.filter { $0.reason == .blockedAddress } }

    /// Closes the listener and every connection, and joins every thread.
    public func stop() {
        lock.lock()
        guard listener >= 0, !stopping else { lock.unlock(); return }
        stopping = true
        let fd = listener
        shutdown(fd, Int32(SHUT_RDWR))
        let accepter = acceptThread
        lock.unlock()

        accepter?.join()
        lock.lock()
        close(fd)
        for fds in sockets.values { for socket in fds { shutdown(socket, Int32(SHUT_RDWR)) } }
        let remaining = Array(threads.values)
        threads = [:]
        finished = []
        acceptThread = nil
        listener = -1
        lock.unlock()
        for thread in remaining { thread.join() }
    }

    // MARK: - Accepting

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            lock.lock()
            if stopping {
                lock.unlock()
                if client >= 0 { close(client) }
                return
            }
            reapFinishedLocked()
            if client < 0 {
                lock.unlock()
                if errno == EMFILE || errno == ENFILE { usleep(50_000) }
                continue
            }
            guard threads.count < EgressGuard.maxConnections else {
                lock.unlock()
                send(reply(503, "Service Unavailable", refused: nil, body: "too many connections"), to: client)
                shutdown(client, Int32(SHUT_WR))
                var unread = [UInt8](repeating: 0, count: 4096)
                _ = unread.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                close(client)
                continue
            }
            let id = nextID
            nextID += 1
            sockets[id] = [client]
            threads[id] = WorkerThread { [self] in
                serve(id: id, client: client)
                lock.lock()
                for socket in sockets.removeValue(forKey: id) ?? [] { close(socket) }
                finished.append(id)
                lock.unlock()
            }
            lock.unlock()
        }
    }

    private func reapFinishedLocked() {
        var waiting: [Int] = []
        for id in finished {
            if let thread = threads.removeValue(forKey: id) { thread.join() } else { waiting.append(id) }
        }
        finished = waiting
    }

    // MARK: - One connection

    private func serve(id: Int, client: Int32) {
        setSendTimeout(client)
        var buffer: [UInt8] = []
        let head: ProxyRequestHead
        reading: while true {
            switch ProxyRequestHead.parse(buffer) {
            case .complete(let parsed):
                head = parsed
                break reading
            case .invalid(let problem):
                refuse(client, host: "", reason: .invalidURL, detail: "bad proxy request: \(problem)", status: 400, label: "bad_request")
                return
            case .tooLarge:
                refuse(client, host: "", reason: .invalidURL, detail: "request head over \(ProxyRequestHead.maxHeadBytes) bytes",
                       status: 431, label: "bad_request")
                return
            case .incomplete:
                guard let chunk = receive(client, max: ProxyRequestHead.maxHeadBytes - buffer.count + 1), !chunk.isEmpty else { return }
                buffer += chunk
            }
        }

        let addresses: [(address: sockaddr_storage, text: String)]
        do {
            addresses = try policy.checkedAddresses(host: head.host, port: head.port)
        } catch let error as OutboundError {
            switch error.reason {
            case .blockedAddress:
                refuse(client, host: head.host, reason: .blockedAddress, detail: error.description, status: 403, label: "blocked_address")
            case .unresolvable:
                refuse(client, host: head.host, reason: .unresolvable, detail: error.description, status: 502, label: "unresolvable")
            default:
                refuse(client, host: head.host, reason: error.reason, detail: error.description, status: 502, label: "bad_request")
            }
            return
        } catch {
            send(reply(502, "Bad Gateway", refused: nil, body: "cannot check \(head.host)"), to: client)
            return
        }

        guard let upstream = connect(id: id, to: addresses) else {
            send(reply(502, "Bad Gateway", refused: nil, body: "cannot connect to \(head.host):\(head.port)"), to: client)
            return
        }
        setSendTimeout(upstream)
        let early = Array(buffer[head.headLength...])
        switch head.target {
        case .connect:
            guard send(Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8), to: client), send(early, to: upstream) else { return }
            relay(client: client, upstream: upstream, bodyLeft: nil)
        case .http:
            let body = early.prefix(head.contentLength)
            guard send(head.forwardedHead(), to: upstream), send(Array(body), to: upstream) else { return }
            relay(client: client, upstream: upstream, bodyLeft: head.contentLength - body.count)
        }
    }

    private func refuse(_ client: Int32, host: String, reason: OutboundError.Reason, detail: String, status: Int, label: String) {
        lock.lock()
        if refusalLog.count < EgressGuard.maxRefusalsKept { refusalLog.append(Refusal(host: host, reason: reason, detail: detail)) }
        lock.unlock()
        let phrase = [400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large"][status] ?? "Bad Gateway"
        send(reply(status, phrase, refused: label, body: detail), to: client)
    }

    private func reply(_ status: Int, _ phrase: String, refused label: String?, body: String) -> [UInt8] {
        let text = body + "\n"
        var head = "HTTP/1.1 \(status) \(phrase)\r\n"
        if let label { head += "X-Fetchgate-Refused: \(label)\r\n" }
        head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n"
        return Array((head + text).utf8)
    }

    /// Connects to the first of the checked addresses that answers within the connect timeout.
    private func connect(id: Int, to addresses: [(address: sockaddr_storage, text: String)]) -> Int32? {
        for (address, _) in addresses {
            let family = Int32(address.ss_family)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            if fd < 0 { continue }
            lock.lock()
            if stopping { lock.unlock(); close(fd); return nil }
            sockets[id, default: []].append(fd)
            lock.unlock()

            var target = address
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            var rc = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
            if rc != 0 && errno == EINPROGRESS {
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&entry, 1, Int32(connectTimeoutSeconds * 1000)) == 1 {
                    var failure: Int32 = 0
                    var size = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size)
                    rc = failure == 0 ? 0 : -1
                } else {
                    rc = -1
                }
            }
            if rc == 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~Int32(O_NONBLOCK))
                return fd
            }
            lock.lock()
            sockets[id]?.removeAll { $0 == fd }
            close(fd)
            lock.unlock()
        }
        return nil
    }

    /// Copies bytes both ways until the origin is done, the client leaves, or nothing moves for the
    /// idle timeout. `bodyLeft` nil: a tunnel, everything passes and each side's end is passed on.
    /// Otherwise a proxied request: only the rest of its body goes up (anything more the client
    /// sends, a second request included, is dropped), and the response's head gets `Connection: close`.
    private func relay(client: Int32, upstream: Int32, bodyLeft: Int?) {
        var bodyLeft = bodyLeft
        var clientOpen = true
        var upstreamOpen = true
        var responseHead: [UInt8]? = bodyLeft == nil ? nil : []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while upstreamOpen {
            var entries = [pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
            if clientOpen { entries.append(pollfd(fd: client, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&entries, nfds_t(entries.count), Int32(idleTimeoutSeconds * 1000))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return }

            if entries[0].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(upstream, $0.baseAddress, $0.count, 0) }
                if n <= 0 {
                    upstreamOpen = false
                    if let pending = responseHead, !pending.isEmpty, !send(pending, to: client) { return }
                } else if var pending = responseHead {
                    pending += buffer[0..<n]
                    if let rewritten = EgressGuard.closingResponseHead(pending) {
                        responseHead = nil
                        if !send(rewritten, to: client) { return }
                    } else if pending.count > ProxyRequestHead.maxHeadBytes {
                        send(reply(502, "Bad Gateway", refused: nil, body: "the origin's response head is too large"), to: client)
                        return
                    } else {
                        responseHead = pending
                    }
                } else if !buffer.withUnsafeBytes({ send(UnsafeRawBufferPointer(rebasing: $0[0..<n]), to: client) }) {
                    return
                }
            }
            if clientOpen, entries.count > 1, entries[1].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if n <= 0 {
                    clientOpen = false
                    // A tunnel passes the end on; a proxied request's client that leaves is done.
                    guard bodyLeft == nil else { return }
                    shutdown(upstream, Int32(SHUT_WR))
                } else if let left = bodyLeft {
                    let forward = min(left, n)
                    bodyLeft = left - forward
                    if forward > 0, !buffer.withUnsafeBytes({ send(UnsafeRawBufferPointer(rebasing: $0[0..<forward]), to: upstream) }) { return }
                } else if !buffer.withUnsafeBytes({ send(UnsafeRawBufferPointer(rebasing: $0[0..<n]), to: upstream) }) {
                    return
                }
            }
        }
        if bodyLeft == nil { shutdown(client, Int32(SHUT_WR)) }
    }

    /// A response head (once complete) with its connection headers replaced by `Connection: close`;
    /// nil while the blank line has not arrived. The bytes after the head are kept.
    static func closingResponseHead(_ bytes: [UInt8]) -> [UInt8]? {
        let limit = bytes.count
        var end = -1
        var i = 0
        while i + 3 < limit {
            if bytes[i] == 0x0d && bytes[i + 1] == 0x0a && bytes[i + 2] == 0x0d && bytes[i + 3] == 0x0a { end = i; break }
            i += 1
        }
        guard end >= 0 else { return nil }
        let lines = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        var text = ""
        for (index, line) in lines.enumerated() {
            if index > 0 {
                let name = line.prefix { $0 != ":" }.lowercased()
                if name == "connection" || name == "keep-alive" || name == "proxy-connection" { continue }
            }
            text += line + "\r\n"
        }
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8) + bytes[(end + 4)...]
    }

    // MARK: - Socket helpers

    private func setSendTimeout(_ fd: Int32) {
        var timeout = timeval(tv_sec: idleTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Up to `max` bytes once the socket is readable within the idle timeout; nil on timeout or error, [] at its end.
    private func receive(_ fd: Int32, max: Int) -> [UInt8]? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var ready: Int32
        repeat { ready = poll(&entry, 1, Int32(idleTimeoutSeconds * 1000)) } while ready < 0 && errno == EINTR
        guard ready == 1 else { return nil }
        var chunk = [UInt8](repeating: 0, count: Swift.max(1, Swift.min(max, 16 * 1024)))
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { return nil }
        return Array(chunk[0..<n])
    }

    @discardableResult
    private func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        bytes.withUnsafeBytes { send($0, to: fd) }
    }

    private func send(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }
}
