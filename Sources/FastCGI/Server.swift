import CFastCGI
import HTTPCore
import Support
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

        public init(socketPath: String, threads: Int = 0, maxBodyBytes: Int = BodyLimit.defaultBytes, backlog: Int32 = 1024, socketMode: mode_t = 0o600) {
            self.socketPath = socketPath
            self.threads = threads > 0 ? threads : max(2, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            self.maxBodyBytes = maxBodyBytes
            self.backlog = backlog
            self.socketMode = socketMode
        }
    }

    public let configuration: Configuration
    private var listenSocket: Int32 = -1
    private let stopping = Flag()

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds the socket, runs the threads, and returns after SIGTERM/SIGINT once every
    /// in-flight request has been answered.
    public func run(makeHandler: @escaping @Sendable () -> Handler) throws {
        // Block the stop signals in every thread; the main thread waits for them.
        StopSignals.block()

        guard FCGX_Init() == 0 else { throw StartError(description: "FCGX_Init failed") }
        unlink(configuration.socketPath)
        let previousMask = umask(0o177)
        listenSocket = FCGX_OpenSocket(configuration.socketPath, configuration.backlog)
        umask(previousMask)
        guard listenSocket >= 0 else {
            throw StartError(description: "cannot listen on \(configuration.socketPath): \(String(cString: strerror(errno)))")
        }
        chmod(configuration.socketPath, configuration.socketMode)

        let threads = (0..<configuration.threads).map { _ in
            WorkerThread { [self] in Worker(server: self, makeHandler: makeHandler).loop() }
        }

        StopSignals.wait()
        stopping.set()
        FCGX_ShutdownPending()
        // Wakes every thread blocked in accept(); in-flight requests run to completion.
        shutdown(listenSocket, Int32(SHUT_RDWR))
        for thread in threads { thread.join() }
        close(listenSocket)
        unlink(configuration.socketPath)
    }

    var isStopping: Bool { stopping.isSet }
    var socket: Int32 { listenSocket }
}

/// One thread's accept loop with its own request, handler and output buffer.
final class Worker {
    let server: Server
    let makeHandler: @Sendable () -> Handler

    init(server: Server, makeHandler: @escaping @Sendable () -> Handler) {
        self.server = server
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
            if output.capacity > 1 << 20 { output = []; output.reserveCapacity(64 * 1024) }
        }
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
