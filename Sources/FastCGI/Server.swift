import CFastCGI
import HTTPCore
import Support
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A handler answers one request. Each server thread builds its own with the
/// factory it is given, so a handler may own thread-local state (a database connection).
public typealias Handler = (Request) -> Response

/// Serves FastCGI on a unix socket with a pool of threads, each running its own
/// `FCGX_Accept_r` loop with its own `FCGX_Request`. Knows no application.
public final class Server: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var socketPath: String
        public var threads: Int
        public var maxBodyBytes: Int
        public var backlog: Int32
        /// Permissions of the socket file; the web server must run as the same user.
        public var socketMode: mode_t
        /// A socket already listening on `socketPath`, inherited from the parent (`Server.listen`):
        /// nil makes the server bind its own. An inherited socket outlives the process: the server
        /// neither shuts it down nor removes its file, so connections arriving while no process
        /// serves wait in its backlog for the next one.
        public var inheritedSocket: Int32?

        public init(socketPath: String, threads: Int = 0, maxBodyBytes: Int = BodyLimit.defaultBytes, backlog: Int32 = 1024, socketMode: mode_t = 0o600,
                    inheritedSocket: Int32? = nil) {
            self.socketPath = socketPath
            self.inheritedSocket = inheritedSocket
            self.threads = threads > 0 ? threads : Configuration.defaultThreads
            self.maxBodyBytes = maxBodyBytes
            self.backlog = backlog
            self.socketMode = socketMode
        }

        /// Request threads when none are asked for: two per core.
        public static var defaultThreads: Int { max(2, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
    }

    public let configuration: Configuration
    private var listenSocket: Int32 = -1
    private let stopping = Flag()
    /// Connections the web server keeps open between requests (`fastcgi_keep_conn`), one slot per
    /// thread (-1: none): a thread waiting on one reads nothing else until nginx sends the next
    /// request or closes it, so a stop closes them itself.
    private let keptConnections = Mutex<[Int32]>([])

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A unix socket listening at `path` (a file left there is replaced), mode `mode`, close-on-exec:
    /// what the server binds itself, and what a parent binds once to pass to every process it starts.
    public static func listen(path: String, backlog: Int32 = 1024, mode: mode_t = 0o600) throws -> Int32 {
        unlink(path)
        let previousMask = umask(0o177)
        let fd = FCGX_OpenSocket(path, backlog)
        umask(previousMask)
        guard fd >= 0 else {
            throw StartError(description: "cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        chmod(path, mode)
        return fd
    }

    /// Binds the socket (or takes the inherited one), runs the threads, and returns after
    /// SIGTERM/SIGINT once every in-flight request has been answered.
    public func run(makeHandler: @escaping @Sendable () -> Handler) throws {
        // Block the stop signals in every thread; the main thread waits for them.
        StopSignals.block()

        guard FCGX_Init() == 0 else { throw StartError(description: "FCGX_Init failed") }
        if let inherited = configuration.inheritedSocket {
            var listening: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(inherited, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening == 1 else {
                throw StartError(description: "descriptor \(inherited) is not a listening socket")
            }
            _ = fcntl(inherited, F_SETFD, FD_CLOEXEC)
            listenSocket = inherited
        } else {
            listenSocket = try Server.listen(path: configuration.socketPath, backlog: configuration.backlog, mode: configuration.socketMode)
        }

        keptConnections.withLock { $0 = Array(repeating: -1, count: configuration.threads) }
        let threads = (0..<configuration.threads).map { slot in
            WorkerThread { [self] in Worker(server: self, slot: slot, makeHandler: makeHandler).loop() }
        }

        StopSignals.wait()
        stopping.set()
        FCGX_ShutdownPending()
        if configuration.inheritedSocket != nil {
            // Shutting the socket down would refuse every later connection, also the next
            // process's: threads blocked in accept() stay there and end with the process; each
            // busy one finishes its request and stops. Connections not yet accepted stay in the
            // backlog for the next process.
            // Quiet twice 20 ms apart: a thread that had just accepted has counted itself by then.
            var quiet = 0
            while quiet < 2 {
                quiet = busy.load(ordering: .sequentiallyConsistent) == 0 ? quiet + 1 : 0
                usleep(20_000)
            }
            return
        }
        // Wakes every thread blocked in accept(); in-flight requests run to completion.
        shutdown(listenSocket, Int32(SHUT_RDWR))
        // And every thread waiting for the next request on a kept connection: its read ends. Only
        // the reading side: a slot is cleared once a request has arrived, so a reply being written
        // on a connection libfcgi reopened under the same number still goes out whole.
        keptConnections.withLock { fds in
            for fd in fds where fd >= 0 { shutdown(fd, Int32(SHUT_RD)) }
        }
        for thread in threads { thread.join() }
        close(listenSocket)
        unlink(configuration.socketPath)
    }

    var isStopping: Bool { stopping.isSet }

    /// The thread in `slot` waits for the next request on `fd` (or, -1, on no kept connection).
    func keep(slot: Int, fd: Int32) {
        keptConnections.withLock { $0[slot] = fd }
    }

    var socket: Int32 { listenSocket }
    /// Threads between an accepted request and its end.
    let busy = Atomic<Int>(0)
}

/// One thread's accept loop with its own request, handler and output buffer.
final class Worker {
    let server: Server
    let slot: Int
    let makeHandler: @Sendable () -> Handler

    init(server: Server, slot: Int, makeHandler: @escaping @Sendable () -> Handler) {
        self.server = server
        self.slot = slot
        self.makeHandler = makeHandler
    }

    func loop() {
        let handler = makeHandler()
        var request = FCGX_Request()
        FCGX_InitRequest(&request, server.socket, 0)
        var output: [UInt8] = []
        output.reserveCapacity(64 * 1024)
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        let limit = server.configuration.maxBodyBytes

        while !server.isStopping, FCGX_Accept_r(&request) >= 0 {
            server.keep(slot: slot, fd: -1)
            server.busy.add(1, ordering: .sequentiallyConsistent)
            defer { server.busy.subtract(1, ordering: .sequentiallyConsistent) }
            // Everything the handler needs is copied out before FCGX_Finish_r.
            let params = Worker.params(request.envp)
            let declared = Int(params["CONTENT_LENGTH"] ?? "") ?? 0
            var body: [UInt8] = []
            // The declared length is only a hint (nginx may have kept the body on disk).
            var tooLarge = false
            if declared > 0 && declared <= limit {
                body.reserveCapacity(declared)
            }
            while true {
                let n = scratch.withUnsafeMutableBufferPointer { buffer in
                    buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                        FCGX_GetStr($0, Int32(buffer.count), request.in)
                    }
                }
                if n <= 0 { break }
                if !tooLarge {
                    if body.count + Int(n) > limit {
                        tooLarge = true
                        body = []
                    } else {
                        body.append(contentsOf: scratch[0..<Int(n)])
                    }
                }
            }
            let response = handler(Request(cgi: params, body: body, bodyTooLarge: tooLarge))
            response.serialize(into: &output)
            output.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    _ = FCGX_PutStr($0, Int32(buffer.count), request.out)
                }
            }
            FCGX_Finish_r(&request)
            // Still open when nginx asked to keep it (its upstream pool): published before the
            // loop looks at the stop flag again, so a stop either sees it or this thread stops.
            server.keep(slot: slot, fd: request.ipcFd)
            if output.capacity > 1 << 20 { output = []; output.reserveCapacity(64 * 1024) }
        }
        server.keep(slot: slot, fd: -1)
        FCGX_Free(&request, 1)
    }

    /// Copies the CGI parameters out of libfcgi's memory (before FCGX_Finish_r frees it).
    static func params(_ envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String: String] {
        var result: [String: String] = [:]
        result.reserveCapacity(48)
        guard var cursor = envp else { return result }
        while let entry = cursor.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let buffer = UnsafeBufferPointer(start: bytes, count: length)
                if let equals = buffer.firstIndex(of: UInt8(ascii: "=")) {
                    let key = String(decoding: UnsafeBufferPointer(rebasing: buffer[..<equals]), as: UTF8.self)
                    result[key] = String(decoding: UnsafeBufferPointer(rebasing: buffer[(equals + 1)...]), as: UTF8.self)
                }
            }
            cursor += 1
        }
        return result
    }
}
