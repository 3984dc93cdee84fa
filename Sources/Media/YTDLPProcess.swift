import Foundation
import Support

/// One yt-dlp (or ffmpeg) process in a group of its own, watched from the calling thread: its
/// output read line by line from a file as it grows (no pipe to fill up), `shouldStop` and the
/// wall clock checked every 20 ms, and the whole group killed (SIGKILL to -pgid) when either
/// says so, when the caller aborts, and after the process exits (an orphaned ffmpeg goes too).
enum YTDLPProcess {
    enum Ended: Equatable {
        case exited(Int32)
        case stopped
        case timedOut
        /// `onLine` or `watch` returned false.
        case aborted
    }

    struct OutputFileError: Error {}

    static let pollMicroseconds: UInt32 = 20_000

    /// The child's environment: the parent's without any proxy variable (`*_proxy`, `*_PROXY`)
    /// or Python/XDG setting that could point it elsewhere; HOME is `home`; Python's output unbuffered.
    static func environment(home: String, parent: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let dropped: Set<String> = ["HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "PYTHONPATH", "PYTHONHOME",
                                    "PYTHONSTARTUP", "PYTHONUSERBASE"]
        var env = parent.filter { !$0.key.lowercased().hasSuffix("_proxy") && !dropped.contains($0.key) }
        env["HOME"] = home
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONIOENCODING"] = "utf-8"
        return env.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Runs `argv` with stdout (and stderr, when `stderr` is nil) in the file `output`.
    /// With `readLines`, `onLine` gets each complete line of `output` as it is written; `watch` is asked every
    /// 250 ms. Either returning false ends the run (`aborted`).
    static func run(_ argv: [String], output: String, stderr: String? = nil, home: String, wallSeconds: Double,
                    shouldStop: () -> Bool = { false }, readLines: Bool = false, onLine: (Substring) -> Bool = { _ in true },
                    watch: () -> Bool = { true }) throws -> Ended {
        let created = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard created >= 0 else { throw OutputFileError() }
        close(created)
        let reader = open(output, O_RDONLY)
        defer { if reader >= 0 { close(reader) } }
        let pid = try Subprocess.spawn(argv, stdout: output, stderr: stderr ?? output, truncate: false, newProcessGroup: true,
                                       environment: environment(home: home))
        let deadline = Date().addingTimeInterval(min(max(wallSeconds, 0), 1e9))
        var lines = LineBuffer()
        var lastWatch = Date()
        func drain() -> Bool {
            guard readLines, reader >= 0 else { return true }
            return lines.read(reader, onLine)
        }
        func end(_ ended: Ended) -> Ended {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return ended
        }
        while true {
            if !drain() { return end(.aborted) }
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid {
                // Exited, not yet reaped: its group id cannot be reused while we kill what is left of the group.
                let complete = drain()
                kill(-pid, SIGKILL)
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return complete ? .exited(Subprocess.exitCode(status)) : .aborted
            }
            if shouldStop() { return end(.stopped) }
            let now = Date()
            if now > deadline { return end(.timedOut) }
            if now.timeIntervalSince(lastWatch) >= 0.25 {
                lastWatch = now
                if !watch() { return end(.aborted) }
            }
            usleep(pollMicroseconds)
        }
    }

    /// Runs `argv` (no output of interest but stdout) and returns its first line, or nil when it
    /// cannot start, fails or says nothing.
    static func firstLine(_ argv: [String], timeoutSeconds: Double = 10) -> String? {
        let scratch = NSTemporaryDirectory() + "media-tool-\(UUID().uuidString)"
        defer { unlink(scratch + ".out"); unlink(scratch + ".err") }
        guard let ended = try? run(argv, output: scratch + ".out", stderr: scratch + ".err", home: NSTemporaryDirectory(),
                                   wallSeconds: timeoutSeconds),
              ended == .exited(0) else { return nil }
        let text = Subprocess.readCapped(scratch + ".out", limit: 4096)
        let line = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return line.isEmpty ? nil : line
    }
}

extension LineBuffer {
    /// Reads what is there now; false when `onLine` said stop.
    mutating func read(_ fd: Int32, _ onLine: (Substring) -> Bool) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return true }
            if !feed(chunk[0..<n], onLine) { return false }
        }
    }
}
