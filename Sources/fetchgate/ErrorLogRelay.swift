import Domain
import Foundation
import HTTPCore
import Support

/// nginx's error log, with credentials masked. nginx copies the request line (and the Referer)
/// into its error messages, and a request line may carry `?key=TOKEN`; nginx cannot format its
/// error log, so it sends it here instead (`error_log syslog:server=unix:…`) and a thread of
/// `fetchgate serve` writes each message to `logs/nginx-error.log` through `LogMask`.
final class ErrorLogRelay: @unchecked Sendable {
    let socketPath: String
    let logPath: String
    private let fd: Int32
    /// The log file, opened at once: a log that cannot be written is refused at start, not
    /// silently dropped line by line.
    private let out: Int32
    private var thread: WorkerThread?

    /// Binds the datagram socket (mode 0600: nginx's workers run as this process's user).
    init(socketPath: String, logPath: String) throws {
        self.socketPath = socketPath
        self.logPath = logPath
        let out = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard out >= 0 else { throw SetupError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
        self.out = out
        unlink(socketPath)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SetupError("socket path too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError("socket: \(String(cString: strerror(errno)))") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw SetupError("cannot bind \(socketPath): \(why)")
        }
        chmod(socketPath, 0o600)
        self.fd = fd
    }

    /// Receives and writes messages until the process exits.
    func start() {
        let fd = self.fd
        let out = self.out
        // The node's tag (`node=N `) starts every line, as it does the processes' own logs.
        let tag = Array(Log.prefix.utf8)
        thread = WorkerThread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 { if errno == EINTR { continue } else { return } }
                var line = tag + LogMask.mask(ErrorLogRelay.stripSyslogHeader(buffer[0..<n]))
                if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
                _ = line.withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
            }
        }
    }

    /// `<PRI>Mmm dd hh:mm:ss nginx: MESSAGE` → MESSAGE (nginx's own line, with its timestamp).
    static func stripSyslogHeader(_ datagram: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let tag = Array("nginx: ".utf8)
        guard datagram.first == UInt8(ascii: "<"), datagram.count > tag.count else { return datagram }
        var i = datagram.startIndex
        while i + tag.count <= datagram.endIndex {
            if datagram[i..<(i + tag.count)].elementsEqual(tag) { return datagram[(i + tag.count)...] }
            i += 1
        }
        return datagram
    }
}

/// Masks the values of credential-bearing query parameters in a log line: `key` (every dialect
/// takes the token as `?key=`) and `md5` (a signed link's signature), named in any letter case,
/// percent-encoded or not, with any suffix (`key[]`). The same rule as the access log's maps in
/// `nginx/fetchgate.conf.in`.
enum LogMask {
    static let masked = Array("***".utf8)

    static func mask(_ line: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var i = line.startIndex
        let end = line.endIndex
        while i < end {
            let c = line[i]
            out.append(c)
            i += 1
            guard c == UInt8(ascii: "?") || c == UInt8(ascii: "&") else { continue }
            // A parameter name runs to `=` (or the end of the parameter).
            var j = i
            while j < end && !isNameEnd(line[j]) { j += 1 }
            guard j < end, line[j] == UInt8(ascii: "="), isCredentialName(line[i..<j]) else { continue }
            out.append(contentsOf: line[i...j])
            var k = j + 1
            while k < end && !isValueEnd(line[k]) { k += 1 }
            if k > j + 1 { out.append(contentsOf: masked) }
            i = k
        }
        return out
    }

    static func isCredentialName(_ raw: ArraySlice<UInt8>) -> Bool {
        let name = PercentEncoding.decode(bytes: raw, plusAsSpace: false).lowercased()
        return name.hasPrefix("key") || name.hasPrefix("md5")
    }

    private static func isNameEnd(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "=") || isValueEnd(c)
    }

    private static func isValueEnd(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "&") || c == UInt8(ascii: "\"") || c == UInt8(ascii: " ") || c == UInt8(ascii: "\n")
    }
}
