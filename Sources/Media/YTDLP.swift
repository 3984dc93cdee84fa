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

    /// The fixed format selection of a preset with the options' container, audio only and height
    /// cap: audio (asked for, the preset, or an audio container) → `-x --audio-format` (m4a unless
    /// an audio container says otherwise); otherwise the lower of the preset's and the option's
    /// height as `[height<=?H]` (a format of unknown height — a direct link, a `<video>` page —
    /// passes: with `<=` such sources fail with "Requested format is not available"), formats of the
    /// container's own kind first, then merged into it and remuxed (mp4, mkv) or re-encoded only when
    /// not already webm (`--recode-video webm`: webm holds no H.264/AAC).
    static func formatArguments(_ preset: QualityPreset, _ options: MediaOptions = MediaOptions()) -> [String] {
        let container = options.knownContainer
        let audioContainer = container.flatMap { MediaOptions.audioContainers.contains($0) ? $0 : nil }
        if options.audioOnly || preset == .audio || audioContainer != nil {
            return ["-f", "ba/b", "-x", "--audio-format", audioContainer ?? "m4a"]
        }
        let cap = [preset.height, options.maxHeight.flatMap { (1...10_000).contains($0) ? $0 : nil }].compactMap { $0 }.min()
        let h = cap.map { "[height<=?\($0)]" } ?? ""
        var selector = "bv*\(h)+ba/b\(h)"
        let ext = container ?? (preset == .mp4 ? "mp4" : nil)
        if let ext, ext != "mkv" {
            let audio = ext == "mp4" ? "m4a" : ext
            selector = "bv*[ext=\(ext)]\(h)+ba[ext=\(audio)]/b[ext=\(ext)]\(h)/" + selector
        }
        var args = ["-f", selector]
        if let ext { args += ["--merge-output-format", ext] }
        if let container { args += [container == "webm" ? "--recode-video" : "--remux-video", container] }
        return args
    }

    /// The clip (`--download-sections`, stream copy: measured on an mp4 with a keyframe every second,
    /// a 1-3 s clip of a 6 s file lasts 2.2 s) and the subtitles: `--write-subs --sub-langs` kept
    /// as files (sidecar), or `--sub-langs --embed-subs`, which removes the files once embedded.
    static func optionArguments(_ options: MediaOptions) -> [String] {
        var args: [String] = []
        if let section = options.clip?.section { args += ["--download-sections", section] }
        let languages = options.languages
        if !languages.isEmpty {
            args += options.subtitleSidecar ? ["--write-subs", "--sub-langs", languages.joined(separator: ",")]
                : ["--sub-langs", languages.joined(separator: ","), "--embed-subs"]
        }
        return args
    }

    /// Extractors, proxy and ffmpeg: the same for downloads and metadata.
    func commonArguments(proxy: String?, allowGeneric: Bool) -> [String] {
        var args = [executable] + YTDLP.isolation
        if !allowGeneric { args += ["--use-extractors", "default,-generic"] }
        if let proxy { args += ["--proxy", proxy] }
        if let ffmpegDirectory { args += ["--ffmpeg-location", ffmpegDirectory] }
        return args
    }

    func downloadArguments(url: String, preset: QualityPreset, options: MediaOptions = MediaOptions(), directory: String,
                           proxy: String?, allowGeneric: Bool, limits: MediaLimits, marker: String) -> [String] {
        let t = YTDLPOutput.templates(marker: marker)
        return commonArguments(proxy: proxy, allowGeneric: allowGeneric)
            + ["--no-playlist", "--socket-timeout", String(limits.socketTimeoutSeconds),
               "--max-filesize", String(limits.maxBytes), "--match-filters", "!is_live & duration<?\(limits.maxDurationSeconds)",
               "-P", "home:" + directory, "-P", "temp:" + directory + "/tmp", "-o", "%(id).64s.%(ext)s",
               "--restrict-filenames", "--no-mtime", "--abort-on-unavailable-fragments"]
            + YTDLP.formatArguments(preset, options) + YTDLP.optionArguments(options)
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
    /// On success the directory holds the one file (and its sidecar subtitles); on failure it is left empty.
    public func download(url: String, preset: QualityPreset, options: MediaOptions = MediaOptions(), directory: String,
                         proxy: String?, allowGeneric: Bool, limits: MediaLimits, progress: (MediaProgress) -> Void,
                         shouldStop: () -> Bool) -> MediaDownloadOutcome {
        let dir: String
        do { dir = try YTDLP.prepare(directory) } catch {
            return .failure(MediaFetchError(code: .internal, message: "the job directory could not be prepared"))
        }
        let outcome = run(url: url, preset: preset, options: options, dir: dir, proxy: proxy, allowGeneric: allowGeneric,
                          limits: limits, progress: progress, shouldStop: shouldStop)
        switch outcome {
        case .success(let result): YTDLP.empty(dir, keeping: Set([result.path] + result.sidecars.map(\.path)))
        case .failure: YTDLP.empty(dir, keeping: [])
        }
        return outcome
    }

    private func run(url: String, preset: QualityPreset, options: MediaOptions, dir: String, proxy: String?, allowGeneric: Bool,
                     limits: MediaLimits, progress: (MediaProgress) -> Void, shouldStop: () -> Bool) -> MediaDownloadOutcome {
        let marker = "fg" + String(UInt64.random(in: 0 ... .max), radix: 16)
        let log = NSTemporaryDirectory() + "yt-dlp-\(UUID().uuidString).log"
        defer { unlink(log) }
        let argv = downloadArguments(url: url, preset: preset, options: options, directory: dir, proxy: proxy,
                                     allowGeneric: allowGeneric, limits: limits, marker: marker)
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
            let checked = YTDLP.check(file.path, in: dir, info: info, limits: limits, tooLarge: tooLargeError)
            guard case .success(var result) = checked, options.subtitleSidecar else { return checked }
            result.sidecars = YTDLP.sidecars(beside: result.path, in: dir, languages: options.languages, limits: limits)
            return .success(result)
        }
    }

    /// The subtitle files yt-dlp wrote beside `path` (`<stem>.<language>.<ext>`, a language asked
    /// for, an extension of letters and digits): regular files (not symlinks) inside `dir`, not in
    /// its tmp/, each within the size limit; in the order of `languages`.
    static func sidecars(beside path: String, in dir: String, languages: [String], limits: MediaLimits) -> [MediaSidecar] {
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return languages.flatMap { language in
            names.compactMap { name -> MediaSidecar? in
                let prefix = stem + "." + language + "."
                guard name.hasPrefix(prefix) else { return nil }
                let ext = String(name.dropFirst(prefix.count))
                guard (1...8).contains(ext.count), ext.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
                var st = stat()
                let full = dir + "/" + name
                guard lstat(full, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int64(st.st_size) <= limits.maxBytes,
                      let resolved = realPath(full), resolved.hasPrefix(dir + "/"), !resolved.hasPrefix(dir + "/tmp/") else { return nil }
                return MediaSidecar(path: resolved, language: language, ext: ext.lowercased(), sizeBytes: Int64(st.st_size))
            }
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
        let argv = metadataArguments(url: url, proxy: proxy, allowGeneric: allowGeneric,
                                     socketTimeoutSeconds: min(max(timeoutSeconds, 1), 20))
        return json(argv, timeoutSeconds: timeoutSeconds).flatMap { data in
            guard let metadata = YTDLPMetadata.normalize(data) else {
                return .failure(MediaFetchError(code: .internal, message: "yt-dlp's metadata could not be read"))
            }
            return .success(metadata)
        }
    }

    /// The most entries `playlist` lists.
    public static let maxPlaylistEntries = 100

    /// The entries of a playlist page, at most `limit` (clamped to 1…100): `--flat-playlist -J -I 1:LIMIT`,
    /// the same isolation as `metadata`. Entries whose URL is not http(s) are left out; a page that is
    /// one video is one entry (the URL asked for). See `YTDLPPlaylist.entries` for which URL an entry gets.
    public func playlist(url: String, limit: Int, proxy: String?, timeoutSeconds: Int,
                         allowGeneric: Bool = true) -> Result<[PlaylistEntry], MediaFetchError> {
        let limit = min(max(limit, 1), YTDLP.maxPlaylistEntries)
        let argv = playlistArguments(url: url, limit: limit, proxy: proxy, allowGeneric: allowGeneric,
                                     socketTimeoutSeconds: min(max(timeoutSeconds, 1), 20))
        return json(argv, timeoutSeconds: timeoutSeconds).flatMap { data in
            guard let entries = YTDLPPlaylist.entries(data, requestedURL: url, limit: limit) else {
                return .failure(MediaFetchError(code: .internal, message: "yt-dlp's playlist could not be read"))
            }
            return .success(entries)
        }
    }

    func playlistArguments(url: String, limit: Int, proxy: String?, allowGeneric: Bool, socketTimeoutSeconds: Int) -> [String] {
        commonArguments(proxy: proxy, allowGeneric: allowGeneric)
            + ["--flat-playlist", "-J", "-I", "1:\(min(max(limit, 1), YTDLP.maxPlaylistEntries))",
               "--socket-timeout", String(socketTimeoutSeconds), "--", url]
    }

    /// Runs a `-J` command with HOME a fresh temporary directory, killed after `timeoutSeconds`;
    /// its standard output (at most 64 MiB) or the failure yt-dlp reported.
    private func json(_ argv: [String], timeoutSeconds: Int) -> Result<Data, MediaFetchError> {
        let home = NSTemporaryDirectory() + "yt-dlp-metadata-\(UUID().uuidString)"
        guard mkdir(home, 0o700) == 0 else {
            return .failure(MediaFetchError(code: .internal, message: "a temporary directory could not be made"))
        }
        defer { try? FileManager.default.removeItem(atPath: home) }
        // Outside HOME: yt-dlp never sees these names.
        let out = home + ".json", err = home + ".err"
        defer { unlink(out); unlink(err) }
        guard let ended = try? YTDLPProcess.run(argv, output: out, stderr: err, home: home, wallSeconds: Double(timeoutSeconds)) else {
            return .failure(MediaFetchError(code: .internal, message: "yt-dlp could not be started"))
        }
        switch ended {
        case .timedOut:
            return .failure(MediaFetchError(code: .timeout, message: "no answer within \(timeoutSeconds) s"))
        case .exited(0):
            let data = FileManager.default.contents(atPath: out) ?? Data()
            guard data.count <= 64 << 20 else {
                return .failure(MediaFetchError(code: .internal, message: "yt-dlp's answer is too large"))
            }
            return .success(data)
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
        empty(dir, keeping: [])
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: false)
        return dir
    }

    /// Removes every entry of `dir` but `keeping` (paths inside it).
    static func empty(_ dir: String, keeping: Set<String>) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !keeping.contains(dir + "/" + name) {
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
