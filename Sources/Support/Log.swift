#if canImport(Glibc)
import Glibc
#endif

/// One line to standard error (the supervisor sends it to the process's log file).
public func logError(_ message: String) {
    let line = Array((message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
