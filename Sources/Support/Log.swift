#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The process's log lines: one line each to standard error (the supervisor sends it to the
/// process's log file). A node of several (`fetchgate serve --node-name N`, handed on to every
/// process it starts) tags each line `node=N ` at its start, so lines gathered from many nodes
/// still say where they came from.
public enum Log {
    private static let tag = Mutex("")

    /// A node name: 1 to 64 letters, digits, `.`, `_` or `-` (it is written into logs and into
    /// nginx's log format as it is).
    public static func isValidNodeName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
    }

    /// Tags every later line with `node=NAME ` (nil: no tag). Set once at start, from the
    /// program's `--node-name`.
    public static func setNode(_ name: String?) {
        tag.withLock { $0 = name.map { "node=\($0) " } ?? "" }
    }

    /// What starts each line: `node=N ` or nothing.
    public static var prefix: String { tag.withLock { $0 } }
}

/// One line to standard error (the supervisor sends it to the process's log file), tagged with
/// the node's name when it has one.
public func logError(_ message: String) {
    let line = Array((Log.prefix + message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
