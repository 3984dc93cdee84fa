import Foundation
import Support

/// Runs yt-dlp safely: no shell, the URL after `--`, no configuration, plugin or cache of any
/// kind, HOME in the job directory and no proxy from the environment, fixed options only (every
/// user choice is a `QualityPreset`), a process group of its own killed whole on the wall
/// limit or on request, and the finished file checked to lie inside the job directory.
public struct YTDLP: Sendable {
    public let executable: String
    /// Passed as `--ffmpeg-location` when set.
    public let ffmpegDirectory: String?

    public init(executable: String, ffmpegDirectory: String? = nil) {
        self.executable = executable
        self.ffmpegDirectory = ffmpegDirectory
    }

    /// `.venv/bin/yt-dlp` in the nearest directory above the binary that has one (the checkout),
    /// else `yt-dlp` (found on PATH when run).
    public static func defaultExecutable(near executablePath: String) -> String {
        var dir = (executablePath as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty {
            let candidate = dir + "/.venv/bin/yt-dlp"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return "yt-dlp"
    }

    /// On every run, before anything else.
    static let isolation = ["--ignore-config", "--no-config-locations", "--no-plugin-dirs", "--no-cache-dir", "--color", "no_color"]

    /// The fixed format selection of each preset.
    static func formatArguments(_ preset: QualityPreset) -> [String] {
        switch preset {
        case .best: return ["-f", "bv*+ba/b"]
        case .p1080: return heightArguments(1080)
        case .p720: return heightArguments(720)
        case .p480: return heightArguments(480)
        case .p360: return heightArguments(360)
        case .audio: return ["-f", "ba/b", "-x", "--audio-format", "m4a"]
        case .mp4: return ["-f", "bv*[ext=mp4]+ba[ext=m4a]/b[ext=mp4]/bv*+ba/b", "--merge-output-format", "mp4"]
        }
    }

    /// `<=?`: a height cap that lets a format of unknown height through (a direct mp4 link, a
    /// `<video>` page): with `<=` such sources fail with "Requested format is not available".
    private static func heightArguments(_ height: Int) -> [String] {
        ["-f", "bv*[height<=?\(height)]+ba/b[height<=?\(height)]"]
    }

    /// Extractors, proxy and ffmpeg: the same for downloads and metadata.
    func commonArguments(proxy: String?, allowGeneric: Bool) -> [String] {
        var args = [executable] + YTDLP.isolation
        if !allowGeneric { args += ["--use-extractors", "default,-generic"] }
        if let proxy { args += ["--proxy", proxy] }
        if let ffmpegDirectory { args += ["--ffmpeg-location", ffmpegDirectory] }
        return args
    }

    func downloadArguments(url: String, preset: QualityPreset, directory: String, proxy: String?, allowGeneric: Bool,
                           limits: MediaLimits, marker: String) -> [String] {
        let t = YTDLPOutput.templates(marker: marker)
        return commonArguments(proxy: proxy, allowGeneric: allowGeneric)
            + ["--no-playlist", "--socket-timeout", String(limits.socketTimeoutSeconds),
               "--max-filesize", String(limits.maxBytes), "--match-filters", "!is_live & duration<?\(limits.maxDurationSeconds)",
               "-P", "home:" + directory, "-P", "temp:" + directory + "/tmp", "-o", "%(id).64s.%(ext)s",
               "--restrict-filenames", "--no-mtime", "--abort-on-unavailable-fragments"]
            + YTDLP.formatArguments(preset)
            + ["--newline", "--progress", "--progress-template", t.download, "--progress-template", t.postprocess,
               "--print", t.info, "--print", t.file, "--", url]
    }

    func metadataArguments(url: String, proxy: String?, allowGeneric: Bool, socketTimeoutSeconds: Int) -> [String] {
        commonArguments(proxy: proxy, allowGeneric: allowGeneric)
            + ["-J", "--skip-download", "--no-playlist", "--socket-timeout", String(socketTimeoutSeconds), "--", url]
    }

    // MARK: download

    /// Downloads `url` into `directory` (created/emptied first; HOME is set to it; proxy env
    /// cleared; a process group of its own; killed whole on the wall limit or when shouldStop()
    /// says so; shouldStop is asked every 20 ms on the calling thread, and so is `progress`).
    /// On success the directory holds the one file; on failure it is left empty.
    public func download(url: String, preset: QualityPreset, directory: String, proxy: String?, allowGeneric: Bool,
                         limits: MediaLimits, progress: (MediaProgress) -> Void, shouldStop: () -> Bool) -> MediaDownloadOutcome {
        let dir: String
        do { dir = try YTDLP.prepare(directory) } catch {
            return .failure(MediaFetchError(code: .internal, message: "the job directory could not be prepared"))
        }
        let outcome = run(url: url, preset: preset, dir: dir, proxy: proxy, allowGeneric: allowGeneric, limits: limits,
                          progress: progress, shouldStop: shouldStop)
        switch outcome {
        case .success(let result): YTDLP.empty(dir, keeping: result.path)
        case .failure: YTDLP.empty(dir, keeping: nil)
        }
        return outcome
    }

    private func run(url: String, preset: QualityPreset, dir: String, proxy: String?, allowGeneric: Bool, limits: MediaLimits,
                     progress: (MediaProgress) -> Void, shouldStop: () -> Bool) -> MediaDownloadOutcome {
        let marker = "fg" + String(UInt64.random(in: 0 ... .max), radix: 16)
        let log = NSTemporaryDirectory() + "yt-dlp-\(UUID().uuidString).log"
        defer { unlink(log) }
        let argv = downloadArguments(url: url, preset: preset, directory: dir, proxy: proxy, allowGeneric: allowGeneric,
                                     limits: limits, marker: marker)
        var info = YTDLPInfo()
        var file: (path: String, ext: String?)? = nil
        var tally = YTDLPTally()
        var errors: [Substring] = []
        var tooLarge = false
        let tooLargeError = MediaFetchError(code: .tooLarge, message: "the media is larger than the limit of \(limits.maxBytes) bytes")
        let ended: YTDLPProcess.Ended
        do {
            ended = try YTDLPProcess.run(argv, output: log, home: dir, wallSeconds: Double(limits.wallSeconds), shouldStop: shouldStop,
                                         readLines: true, onLine: { line in
                switch YTDLPOutput.parse(line: line, marker: marker) {
                case let .download(status, bytes, total, estimate, speed, eta):
                    progress(tally.progress(status: status, bytes: bytes, total: total, estimate: estimate, speed: speed, eta: eta))
                    if tally.bytesSoFar > limits.maxBytes { tooLarge = true; return false }
                case let .postprocess(status, name):
                    if status == "started", let step = YTDLPOutput.step(postprocessor: name) { progress(MediaProgress(step: step)) }
                case .info(let i): info = i
                case .file(let path, let ext): file = (path, ext)
                case .other:
                    if line.hasPrefix("ERROR:") { errors = Array((errors + [line]).suffix(8)) }
                }
                return true
            }, watch: {
                // Downloads yt-dlp does not report (an external ffmpeg): the largest file so far.
                tooLarge = YTDLP.largestFile(in: dir) > limits.maxBytes
                return !tooLarge
            })
        } catch {
            return .failure(MediaFetchError(code: .internal, message: "yt-dlp could not be started"))
        }
        switch ended {
        case .aborted:
            return .failure(tooLarge ? tooLargeError : MediaFetchError(code: .internal, message: "yt-dlp's output could not be read"))
        case .stopped:
            return .failure(MediaFetchError(code: .cancelled, message: "the fetch was stopped", transient: false))
        case .timedOut:
            return .failure(MediaFetchError(code: .timeout, message: "the fetch took longer than \(limits.wallSeconds) s and was stopped"))
        case .exited(let status) where status != 0:
            return .failure(YTDLPErrors.classify(output: errors.joined(separator: "\n"), exitStatus: status,
                                                 hiddenPaths: [dir, executable]))
        case .exited:
            guard let file else { return .failure(YTDLP.skipped(info, limits: limits, tooLarge: tooLargeError)) }
            return YTDLP.check(file.path, in: dir, info: info, limits: limits, tooLarge: tooLargeError)
        }
    }

    /// yt-dlp finished without a file: its filters skipped the video, or the file was larger than `--max-filesize`.
    static func skipped(_ info: YTDLPInfo?, limits: MediaLimits, tooLarge: MediaFetchError) -> MediaFetchError {
        guard let info, info != YTDLPInfo() else {
            return MediaFetchError(code: .internal, message: "yt-dlp finished without a file")
        }
        if info.isLive == true { return MediaFetchError(code: .isLive, message: "live streams cannot be fetched") }
        if let d = info.duration, d >= Double(limits.maxDurationSeconds) {
            return MediaFetchError(code: .tooLong, message: "the media lasts \(Int(d)) s, longer than the limit of \(limits.maxDurationSeconds) s")
        }
        return tooLarge
    }

    /// The path yt-dlp printed, symlinks resolved, must be a regular file in `dir` (not its tmp/).
    static func check(_ printed: String, in dir: String, info: YTDLPInfo, limits: MediaLimits,
                      tooLarge: MediaFetchError) -> MediaDownloadOutcome {
        guard let resolved = realPath(printed), resolved.hasPrefix(dir + "/"), !resolved.hasPrefix(dir + "/tmp/") else {
            return .failure(MediaFetchError(code: .internal, message: "yt-dlp wrote its file outside the job directory"))
        }
        var st = stat()
        guard stat(resolved, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            return .failure(MediaFetchError(code: .internal, message: "yt-dlp's file is not a regular file"))
        }
        let size = Int64(st.st_size)
        if size > limits.maxBytes { return .failure(tooLarge) }
        let ext = (resolved as NSString).pathExtension
        guard !ext.isEmpty else { return .failure(MediaFetchError(code: .internal, message: "yt-dlp's file has no extension")) }
        return .success(MediaDownloadResult(path: resolved, title: info.title, ext: ext, extractor: info.extractor,
                                            durationSeconds: info.duration, sizeBytes: size))
    }

    // MARK: metadata and versions

    /// `-J --skip-download --no-playlist`, same isolation (HOME is a fresh temporary directory),
    /// killed after `timeoutSeconds`.
    public func metadata(url: String, proxy: String?, allowGeneric: Bool, timeoutSeconds: Int) -> Result<MediaMetadata, MediaFetchError> {
        let home = NSTemporaryDirectory() + "yt-dlp-metadata-\(UUID().uuidString)"
        guard mkdir(home, 0o700) == 0 else {
            return .failure(MediaFetchError(code: .internal, message: "a temporary directory could not be made"))
        }
        defer { try? FileManager.default.removeItem(atPath: home) }
        // Outside HOME: yt-dlp never sees these names.
        let out = home + ".json", err = home + ".err"
        defer { unlink(out); unlink(err) }
        let argv = metadataArguments(url: url, proxy: proxy, allowGeneric: allowGeneric,
                                     socketTimeoutSeconds: min(max(timeoutSeconds, 1), 20))
        guard let ended = try? YTDLPProcess.run(argv, output: out, stderr: err, home: home, wallSeconds: Double(timeoutSeconds)) else {
            return .failure(MediaFetchError(code: .internal, message: "yt-dlp could not be started"))
        }
        switch ended {
        case .timedOut:
            return .failure(MediaFetchError(code: .timeout, message: "no answer within \(timeoutSeconds) s"))
        case .exited(0):
            let data = FileManager.default.contents(atPath: out) ?? Data()
            guard data.count <= 64 << 20, let metadata = YTDLPMetadata.normalize(data) else {
                return .failure(MediaFetchError(code: .internal, message: "yt-dlp's metadata could not be read"))
            }
            return .success(metadata)
        case .exited(let status):
            return .failure(YTDLPErrors.classify(output: Subprocess.readCapped(err, limit: 1 << 20), exitStatus: status,
                                                 hiddenPaths: [home, executable]))
        case .stopped, .aborted:
            return .failure(MediaFetchError(code: .internal, message: "yt-dlp was stopped"))
        }
    }

    /// `yt-dlp --version`, nil when it cannot run.
    public func version() -> String? {
        YTDLPProcess.firstLine([executable, "--version"])
    }

    // MARK: the job directory

    /// Kills (the whole process group of) any yt-dlp still running for `directory`: one a killed
    /// worker left behind, found by its `-P home:<directory>` argument. Called before a re-run
    /// uses the directory, so two runs never write into it at once.
    public static func killLeftovers(directory: String) {
        guard let dir = realPath(directory) else { return }
        let wanted = "home:" + dir
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  data.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == wanted }) else { continue }
            let group = getpgid(pid)
            if group > 1 && group != getpgrp() { kill(-group, SIGKILL) }
            kill(pid, SIGKILL)
        }
    }

    /// Creates `directory` (and its tmp/), removes whatever it held; returns it with symlinks resolved.
    static func prepare(_ directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let dir = realPath(directory) else { throw CocoaError(.fileNoSuchFile) }
        empty(dir, keeping: nil)
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: false)
        return dir
    }

    /// Removes every entry of `dir` but `keeping` (a path inside it).
    static func empty(_ dir: String, keeping: String?) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where dir + "/" + name != keeping {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    /// The size of the largest regular file in `dir` or one level below (tmp/).
    static func largestFile(in dir: String) -> Int64 {
        var largest: Int64 = 0
        for sub in ["", "/tmp"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir + sub)) ?? [] {
                var st = stat()
                if lstat(dir + sub + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFREG { largest = max(largest, Int64(st.st_size)) }
            }
        }
        return largest
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The ffmpeg tools the media pipeline uses, for `fetchgate doctor` and start-up lines.
public enum MediaTools {
    /// "ffmpeg version 5.1.8-0+deb12u1 Copyright …" → "5.1.8-0+deb12u1"; the same for ffprobe.
    /// nil when the tool cannot run.
    public static func ffmpegVersion(_ executable: String = "ffmpeg") -> String? {
        guard let line = YTDLPProcess.firstLine([executable, "-version"]) else { return nil }
        let words = line.split(separator: " ")
        guard words.count >= 3, words[1] == "version" else { return line }
        return String(words[2])
    }

    /// The file `name` runs: itself when it holds a "/", else the first executable of that name on PATH.
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? YTDLP.realPath(name) ?? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
