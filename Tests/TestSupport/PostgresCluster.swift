import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL 15 cluster for a test class, run by `tests/support/pgcluster.sh`
/// (the harness the Python tests share) in a temporary directory on a free loopback port.
public final class PostgresCluster: @unchecked Sendable {
    public let directory: String
    public let port: Int
    /// `postgresql://fetchgate@127.0.0.1:PORT/fetchgate`.
    public private(set) var url = ""

    /// The harness, found from this file's place in the repository.
    public static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("tests/support/pgcluster.sh").path
    }()

    /// Makes and starts a cluster.
    public init() throws {
        directory = NSTemporaryDirectory() + "pgcluster-\(UUID().uuidString)"
        port = try PostgresCluster.freePort()
        url = try run("start", directory, String(port))
    }

    /// Stops the server (fast shutdown: its connections are closed) and starts it again.
    public func restart() throws { url = try run("restart", directory) }

    public func stop() throws { _ = try run("stop", directory) }

    public func start() throws { url = try run("start", directory, String(port)) }

    /// Stops the server and removes its directory.
    public func destroy() {
        _ = try? run("stop", directory)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A URL for database `name` of this cluster, made empty first, with extra query parameters.
    public func freshDatabase(_ name: String, query: String = "") throws -> String {
        _ = try run("fresh", directory, name)
        let base = url.prefix(upTo: url.lastIndex(of: "/")!) + "/" + name
        return query.isEmpty ? String(base) : base + "?" + query
    }

    /// Runs the harness (through popen and pclose, which reaps it; its errors go to our stderr)
    /// and returns what it printed.
    @discardableResult
    private func run(_ arguments: String...) throws -> String {
        let command = ([PostgresCluster.script] + arguments).map { "'" + $0 + "'" }.joined(separator: " ")
        guard let pipe = popen(command, "r") else { throw ClusterError(message: "cannot run \(command)") }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil { output += String(cString: buffer) }
        let status = pclose(pipe)
        guard status == 0 else { throw ClusterError(message: "\(command) failed (status \(status))") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A loopback port nothing listens on now (the kernel's pick for a socket bound to port 0).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw ClusterError(message: "no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct ClusterError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}

/// A test class whose tests share one throwaway cluster (`Self.cluster`), started before the
/// class's first test and destroyed after its last.
open class PostgresClusterTestCase: XCTestCase {
    nonisolated(unsafe) public static var cluster: PostgresCluster!

    override open class func setUp() {
        super.setUp()
        do { cluster = try PostgresCluster() } catch { fatalError("\(error)") }
    }

    override open class func tearDown() {
        cluster?.destroy()
        cluster = nil
        super.tearDown()
    }
}
