import Foundation

// Reading what yt-dlp prints: the runner's own progress and --print lines, its ERROR lines
// (classified into stable codes), and -J metadata. Pure functions of text, no process: unit
// tested, and fuzzed (Fuzz/Sources/FuzzYTDLP builds this file as it is).

/// One line of a download's output (stdout and stderr share one file).
enum YTDLPLine: Equatable {
    /// `--progress-template download:`: status ("downloading", "finished", "error") and the numbers.
    case download(status: String, bytes: Int64?, total: Int64?, estimate: Int64?, speed: Double?, eta: Int?)
    /// `--progress-template postprocess:`: status ("started", "processing", "finished") and the step's name.
    case postprocess(status: String, name: String)
    /// `--print pre_process:`, before the filters: what the video is.
    case info(YTDLPInfo)
    /// `--print after_move:`: where the finished file is.
    case file(path: String, ext: String?)
    /// Anything else (yt-dlp's ERROR and WARNING lines, a line with a wrong marker).
    case other
}

struct YTDLPInfo: Equatable {
    var title: String?
    var extractor: String?
    var duration: Double?
    var isLive: Bool?
}

enum YTDLPOutput {
    /// The templates the runner passes; `marker` is random per run, so that no text a site
    /// controls (a title in a warning) can pass for one of these lines.
    static func templates(marker: String) -> (download: String, postprocess: String, info: String, file: String) {
        let fields = "%(progress.status)s %(progress.downloaded_bytes)s %(progress.total_bytes)s "
            + "%(progress.total_bytes_estimate)s %(progress.speed)s %(progress.eta)s"
        return (download: "download:\(marker) dl \(fields)",
                postprocess: "postprocess:\(marker) pp %(progress.status)s %(progress.postprocessor)s",
                info: "pre_process:\(marker) info %(.{title,extractor,duration,is_live})j",
                file: "after_move:\(marker) file %(.{filepath,ext})j")
    }

    static func parse(line: Substring, marker: String) -> YTDLPLine {
        guard line.hasPrefix(marker), line.dropFirst(marker.count).first == " " else { return .other }
        let rest = line.dropFirst(marker.count + 1)
        guard let space = rest.firstIndex(of: " ") else { return .other }
        let kind = rest[..<space]
        let body = rest[rest.index(after: space)...]
        switch kind {
        case "dl":
            let f = body.split(separator: " ", omittingEmptySubsequences: false)
            guard f.count == 6 else { return .other }
            return .download(status: String(f[0]), bytes: integer(f[1]), total: integer(f[2]), estimate: integer(f[3]),
                             speed: real(f[4]), eta: real(f[5]).flatMap { $0 < 1e9 ? Int($0) : nil })
        case "pp":
            let f = body.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard f.count == 2 else { return .other }
            return .postprocess(status: String(f[0]), name: String(f[1]))
        case "info":
            guard let o = object(body) else { return .other }
            return .info(YTDLPInfo(title: o["title"] as? String, extractor: o["extractor"] as? String,
                                   duration: (o["duration"] as? NSNumber).map(\.doubleValue).flatMap { $0.isFinite ? $0 : nil },
                                   isLive: (o["is_live"] as? NSNumber)?.boolValue))
        case "file":
            guard let o = object(body), let path = o["filepath"] as? String, !path.isEmpty else { return .other }
            return .file(path: path, ext: o["ext"] as? String)
        default:
            return .other
        }
    }

    /// The step a post-processor is, nil for those that are no step of their own (moving files).
    static func step(postprocessor name: String) -> MediaProgress.Step? {
        if name == "Merger" { return .merging }
        if ["ExtractAudio", "VideoConvertor", "VideoRemuxer"].contains(name) || name.hasPrefix("Fixup") { return .converting }
        return nil
    }

    static func integer(_ s: Substring) -> Int64? {
        if let i = Int64(s), i >= 0 { return i }
        guard let d = Double(s), d.isFinite, d >= 0, d < 9e18 else { return nil }
        return Int64(d)
    }

    static func real(_ s: Substring) -> Double? {
        guard let d = Double(s), d.isFinite, d >= 0 else { return nil }
        return d
    }

    static func object(_ text: Substring) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }
}

/// Download progress across the formats of one run (a video and an audio stream are two
/// downloads before a merge): the report for each line, and the bytes fetched so far.
struct YTDLPTally {
    private(set) var finishedBytes: Int64 = 0
    private(set) var bytesSoFar: Int64 = 0

    mutating func progress(status: String, bytes: Int64?, total: Int64?, estimate: Int64?, speed: Double?, eta: Int?) -> MediaProgress {
        let size = total ?? estimate
        var percent: Double? = nil
        if let bytes, let size, size > 0 { percent = min(100, Double(bytes) / Double(size) * 100) }
        if status == "finished" { percent = 100 }
        let current = bytes ?? 0
        let (sum, overflow) = finishedBytes.addingReportingOverflow(current)
        bytesSoFar = overflow ? .max : sum
        if status == "finished" { finishedBytes = bytesSoFar }
        return MediaProgress(step: .downloading, percent: percent, bytes: bytes, totalBytes: size, speed: speed, eta: eta)
    }
}

enum YTDLPErrors {
    /// What a failed run printed → a code and a readable message. `output` is yt-dlp's stderr
    /// (or stdout and stderr together); `hiddenPaths` are removed from the message first.
    static func classify(output: String, exitStatus: Int32, hiddenPaths: [String] = []) -> MediaFetchError {
        guard let reason = lastError(output) else {
            return MediaFetchError(code: .internal, message: "yt-dlp exited with status \(exitStatus)")
        }
        let message = readable(reason, hiddenPaths: hiddenPaths)
        return MediaFetchError(code: code(reason.lowercased()), message: message)
    }

    /// The last `ERROR:` line, without that prefix.
    static func lastError(_ output: String) -> String? {
        var found: Substring? = nil
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix("ERROR:") {
            found = line.dropFirst("ERROR:".count)
        }
        return found.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func code(_ reason: String) -> MediaFetchError.Code {
        func any(_ needles: [String]) -> Bool { needles.contains { reason.contains($0) } }
        if any(["larger than max-filesize"]) { return .tooLarge }
        // This server's disk, not the media: worth another attempt once space returns.
        if any(["no space left on device", "disk quota exceeded", "[errno 28]"]) { return .storageFailed }
        if any(["unsupported url", "no suitable extractor", "is not a valid url"]) { return .unsupportedURL }
        // This server's own tools, whatever the URL ("Postprocessing: ffprobe and ffmpeg not found").
        if any(["postprocessing:", "ffmpeg", "ffprobe"]) { return .internal }
        if any(["http error 408", "http error 429", "http error 5"]) { return .network }
        if any(["http error 4"]) { return .unavailable }
        if any(["timed out", "timeout"]) { return .timeout }
        if any(["connection refused", "connection reset", "connection aborted", "name or service not known",
                "temporary failure in name resolution", "no address associated", "network is unreachable", "no route to host",
                "remote end closed", "incompleteread", "incomplete read", "ssl", "certificate", "tunnel connection failed",
                "transporterror", "proxyerror", "unable to connect", "broken pipe", "giving up after"]) { return .network }
        if any(["private", "unavailable", "not available", "removed", "deleted", "does not exist", "not found",
                "geo restrict", "geo-restrict", "your country", "sign in", "log in", "login", "members", "copyright",
                "terminated", "no video formats found", "premieres in", "live event will begin", "requested format is not available"]) {
            return .unavailable
        }
        return .internal
    }

    /// yt-dlp's reason for people: no "(caused by …)" repetition, no local path, bounded.
    static func readable(_ reason: String, hiddenPaths: [String]) -> String {
        var text = reason
        if let caused = text.range(of: " (caused by ") { text = String(text[..<caused.lowerBound]) }
        for path in hiddenPaths.filter({ $0.count > 1 }).sorted(by: { $0.count > $1.count }) {
            // "/." keeps what follows one word, which the next step removes whole.
            text = text.replacingOccurrences(of: path, with: "/.")
        }
        text = withoutPaths(text)
        let bounded = text.count > 400 ? String(text.prefix(400)) + "…" : text
        return bounded.trimmingCharacters(in: .whitespaces)
    }

    /// Every word that is an absolute path (a "/" at the start of a word, not "//" and not after
    /// "scheme:") becomes "[path]": "'/tmp/job/x.part'" → "'[path]'", "http://h/x" stays.
    static func withoutPaths(_ text: String) -> String {
        let starts: Set<Character> = [" ", "\t", "'", "\"", "(", "[", "=", ","]
        let ends: Set<Character> = [" ", "\t", "'", "\"", ")", "]", ",", ";"]
        var out = ""
        var previous: Character? = nil
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            let next = text.index(after: index)
            if c == "/", previous == nil || starts.contains(previous!), next == text.endIndex || text[next] != "/" {
                var end = next
                while end < text.endIndex, !ends.contains(text[end]) { end = text.index(after: end) }
                out += "[path]"
                previous = "]"
                index = end
                continue
            }
            out.append(c)
            previous = c
            index = next
        }
        return out
    }
}

enum YTDLPMetadata {
    static let maxFormats = 200

    /// yt-dlp's -J object → `{"title","duration","uploader","thumbnail","webpage_url","extractor",
    /// "formats":[{"format_id","ext","resolution","fps","vcodec","acodec","filesize"}]}`, missing values
    /// null, at most 200 formats (filesize falls back to yt-dlp's estimate, filesize_approx).
    static func normalize(_ data: Data) -> MediaMetadata? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        func string(_ o: [String: Any], _ key: String) -> Any { (o[key] as? String) ?? NSNull() }
        func number(_ o: [String: Any], _ key: String) -> Any {
            guard let n = o[key] as? NSNumber, n.doubleValue.isFinite else { return NSNull() }
            return n
        }
        let formats = (root["formats"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }.prefix(maxFormats).map { f -> [String: Any] in
            let size = number(f, "filesize")
            return ["format_id": string(f, "format_id"), "ext": string(f, "ext"), "resolution": string(f, "resolution"),
                    "fps": number(f, "fps"), "vcodec": string(f, "vcodec"), "acodec": string(f, "acodec"),
                    "filesize": size is NSNull ? number(f, "filesize_approx") : size]
        }
        let object: [String: Any] = [
            "title": string(root, "title"), "duration": number(root, "duration"), "uploader": string(root, "uploader"),
            "thumbnail": string(root, "thumbnail"), "webpage_url": string(root, "webpage_url"),
            "extractor": string(root, "extractor"), "formats": Array(formats),
        ]
        guard let json = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return MediaMetadata(json: String(decoding: json, as: UTF8.self), title: root["title"] as? String)
    }
}

/// Bytes read from a growing file, cut into lines. A line longer than `maxLine` is dropped.
struct LineBuffer {
    static let maxLine = 1 << 20
    private var pending: [UInt8] = []
    private var skipping = false

    mutating func feed(_ bytes: ArraySlice<UInt8>, _ onLine: (Substring) -> Bool) -> Bool {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let piece = bytes[start..<newline]
            start = newline + 1
            if skipping { skipping = false; pending.removeAll(); continue }
            pending.append(contentsOf: piece)
            if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
            let line = String(decoding: pending, as: UTF8.self)
            pending.removeAll(keepingCapacity: true)
            if !onLine(Substring(line)) { return false }
        }
        pending.append(contentsOf: bytes[start...])
        if pending.count > LineBuffer.maxLine {
            pending.removeAll()
            skipping = true
        }
        return true
    }
}

enum YTDLPPlaylist {
    static let maxURLBytes = 4096
    static let maxTitleCharacters = 300

    /// yt-dlp's `--flat-playlist -J` object → at most `limit` entries. A playlist's entry gets the
    /// URL of a link entry (`_type` url or url_transparent: a site's video page, a feed item), else
    /// its own page when that differs from the playlist's, else its media URL (the generic
    /// extractor's `<video>` tags all share the page). yt-dlp's internal `#__youtubedl_smuggle`
    /// fragment is cut off; entries that are nested playlists or whose URL is not http(s) with a
    /// host are left out. Not a playlist: one entry, `requestedURL` with the object's title. nil
    /// when the text is not a JSON object.
    static func entries(_ data: Data, requestedURL: String, limit: Int) -> [PlaylistEntry]? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        guard let list = root["entries"] as? [Any] else {
            return [PlaylistEntry(url: requestedURL, title: title(root["title"]))]
        }
        let page = root["webpage_url"] as? String
        var found: [PlaylistEntry] = []
        for case let entry as [String: Any] in list {
            guard found.count < limit else { break }
            let type = entry["_type"] as? String
            guard type != "playlist", type != "multi_video" else { continue }
            let own = entry["webpage_url"] as? String
            let chosen = type == "url" || type == "url_transparent" ? entry["url"] : (own != nil && own != page ? own : entry["url"])
            guard let url = (chosen as? String).flatMap(web) else { continue }
            found.append(PlaylistEntry(url: url, title: title(entry["title"])))
        }
        return found
    }

    /// An http(s) URL with a host, without yt-dlp's smuggled data, no whitespace or control
    /// characters, at most 4 KiB; nil otherwise.
    static func web(_ text: String) -> String? {
        var url = text
        if let smuggled = url.range(of: "#__youtubedl_smuggle=") { url = String(url[..<smuggled.lowerBound]) }
        let lowered = url.lowercased()
        guard url.utf8.count <= maxURLBytes, lowered.hasPrefix("http://") || lowered.hasPrefix("https://"),
              !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.properties.isWhitespace }),
              let host = URLComponents(string: url)?.host, !host.isEmpty else { return nil }
        return url
    }

    /// A title without control characters, trimmed, at most 300 characters; nil when empty.
    static func title(_ value: Any?) -> String? {
        guard let text = value as? String else { return nil }
        let clean = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .control }))
            .trimmingCharacters(in: .whitespaces)
        guard !clean.isEmpty else { return nil }
        return clean.count > maxTitleCharacters ? String(clean.prefix(maxTitleCharacters)) : clean
    }
}
