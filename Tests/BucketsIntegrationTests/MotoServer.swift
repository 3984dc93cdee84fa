import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The checkout's root and its `.venv` (`make deps`: moto[server], botocore, azure-storage-blob).
let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let venvPython = checkout + "/.venv/bin/python"

/// A free loopback TCP port (bound, read, released).
func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: sin.sin_port))
}

/// moto in server mode (`moto_server -H 127.0.0.1 -p PORT`) from the checkout's `.venv`: a real
/// S3-compatible server for upload flows. It does not check signatures (see the oracle tests).
final class MotoServer {
    let port: Int
    private let process = Process()

    init() throws {
        port = freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: checkout + "/.venv/bin/moto_server")
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let fd = connectToLoopback(port: port)
            if fd >= 0 { close(fd); return }
            usleep(100_000)
        }
        stop()
        throw POSIXError(.ETIMEDOUT)
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// A plain request to moto with curl (moto takes unsigned requests): creating buckets, listing.
    @discardableResult
    func curl(_ method: String, _ path: String) throws -> String {
        let result = try runProgram(["/usr/bin/curl", "-sS", "--noproxy", "*", "-X", method, endpoint + path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout
    }

    func createBucket(_ name: String) throws { try curl("PUT", "/" + name) }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// Runs a Python program with the checkout's `.venv` and returns its standard output (trimmed).
func python(_ program: String, _ arguments: [String] = []) throws -> String {
    let result = try runProgram([venvPython, "-c", program] + arguments)
    guard result.status == 0 else { throw NSError(domain: "python", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: result.stderr]) }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Runs an oracle program with `cases` as JSON (its argv[1]) and `arguments` after it: one line each.
func oracle(_ program: String, _ cases: Any, _ arguments: [String] = []) throws -> [String] {
    let json = String(decoding: try JSONSerialization.data(withJSONObject: cases), as: UTF8.self)
    return try python(program, [json] + arguments).split(separator: "\n").map(String.init)
}

/// The Authorization header of each raw request ("" when it has none).
func authorizationHeaders(_ requests: [String]) -> [String] {
    requests.map { request in
        request.split(separator: "\r\n").first { $0.lowercased().hasPrefix("authorization:") }
            .map { String($0.dropFirst("authorization:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
    }
}

/// A file of `size` pseudo-random bytes (seeded), in a fresh temp directory.
func randomFile(size: Int, seed: UInt64 = 42) throws -> String {
    let directory = NSTemporaryDirectory() + "buckets-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var state = seed
    var bytes = [UInt8](repeating: 0, count: size)
    for i in 0..<size {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
    }
    let path = directory + "/media.mp4"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
