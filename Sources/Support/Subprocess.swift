#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Child processes: started with a clean signal mask and default handlers, output to files
/// (no pipe can fill up and stall), optionally in their own process group, with a time limit.
public enum Subprocess {
    /// Returned instead of an exit status when the time limit killed the process.
    public static let timedOut: Int32 = -1
    /// Returned instead of an exit status when `shouldStop` asked for the process to be killed.
    public static let stopped: Int32 = -2

    /// The descriptor `spawn(passing:)` gives the child.
    public static let passedDescriptor: Int32 = 3

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `argv`. `stdout`/`stderr` are appended to (nil: inherited; the same path for both
    /// shares one file). `newProcessGroup` keeps a terminal's Ctrl-C away from the child.
    /// `environment` ("NAME=value" entries) replaces the parent's environment when given.
    /// `passing` (a descriptor of the parent, which should be close-on-exec) becomes the child's
    /// descriptor 3 (`passedDescriptor`): the only descriptor besides 0-2 the child gets from this call.
    public static func spawn(_ argv: [String], stdout: String? = nil, stderr: String? = nil, truncate: Bool = false,
                             newProcessGroup: Bool = false, environment: [String]? = nil, passing: Int32? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let mode = O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND)
        if let stdout { posix_spawn_file_actions_addopen(&actions, 1, stdout, mode, 0o640) }
        if let stderr {
            if stderr == stdout { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
            else { posix_spawn_file_actions_addopen(&actions, 2, stderr, mode, 0o640) }
        }
        if let passing {
            precondition(passing > passedDescriptor, "a passed descriptor must be above \(passedDescriptor)")
            posix_spawn_file_actions_adddup2(&actions, passing, passedDescriptor)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var cEnv = (environment ?? []).map { strdup($0) } + [nil]
        defer { for p in cEnv { free(p) } }
        var pid: pid_t = 0
        let rc = environment == nil ? posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
            : posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
        guard rc == 0 else { throw SpawnError(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Runs to completion (or the time limit) and returns the exit status, 128+signal, or `timedOut`.
    /// `shouldStop` is asked every 10 ms while it runs: true kills it and returns `stopped`.
    public static func run(_ argv: [String], stdout: String? = nil, stderr: String? = nil, timeoutSeconds: Double = .infinity,
                           shouldStop: () -> Bool = { false }) throws -> Int32 {
        let pid = try spawn(argv, stdout: stdout, stderr: stderr, truncate: true)
        let deadline = Date().addingTimeInterval(min(timeoutSeconds, 1e9))
        var status: Int32 = 0
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { return 127 }
            let stop = shouldStop()
            if stop || Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return stop ? stopped : timedOut
            }
            usleep(10_000)
        }
        return exitCode(status)
    }

    public static func exitCode(_ status: Int32) -> Int32 {
        status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// At most `limit` bytes of a file as text.
    public static func readCapped(_ path: String, limit: Int) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: max(0, limit))
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            count += n
        }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
