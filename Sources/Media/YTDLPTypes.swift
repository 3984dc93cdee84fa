// The values the yt-dlp runner takes and gives: the public contract of both fetch dialects
// (presets, error codes). Plain values only, no process plumbing, so the fuzz target can
// build this file as it is.

/// A quality a user may ask for; each maps to a fixed yt-dlp format selector (`YTDLP.formatArguments`).
public enum QualityPreset: String, CaseIterable, Sendable {
    case best, p1080 = "1080p", p720 = "720p", p480 = "480p", p360 = "360p", audio, mp4
}

extension QualityPreset {
    /// The height cap of a height preset.
    var height: Int? {
        switch self {
        case .p1080: 1080
        case .p720: 720
        case .p480: 480
        case .p360: 360
        case .best, .audio, .mp4: nil
        }
    }
}

/// A download's options beyond its preset (validated by the caller). Each maps onto fixed
/// yt-dlp arguments (`YTDLP.formatArguments`, `YTDLP.optionArguments`); a value outside the
/// fixed sets is dropped there, so no text ever reaches yt-dlp from here.
public struct MediaOptions: Sendable, Equatable {
    /// The containers `container` may name: video ones, then the audio ones (which imply audio only).
    public static let videoContainers = ["mp4", "webm", "mkv"]
    public static let audioContainers = ["mp3", "m4a", "opus", "wav"]
    /// At most this many subtitle languages are asked for.
    public static let maxSubtitleLanguages = 10

    public var container: String?
    public var audioOnly: Bool
    /// The largest height (1…10000); a format of unknown height still passes (`<=?`).
    public var maxHeight: Int?
    /// A clip: `--download-sections "*START-END"`, stream copy (cut at keyframes).
    public var clip: MediaClip?
    /// Subtitle language codes (`en`, `pt-BR`); empty: none.
    public var subtitles: [String]
    /// Subtitles kept as files beside the media (`MediaDownloadResult.sidecars`) instead of embedded.
    public var subtitleSidecar: Bool

    public init(container: String? = nil, audioOnly: Bool = false, maxHeight: Int? = nil, clip: MediaClip? = nil,
                subtitles: [String] = [], subtitleSidecar: Bool = false) {
        self.container = container
        self.audioOnly = audioOnly
        self.maxHeight = maxHeight
        self.clip = clip
        self.subtitles = subtitles
        self.subtitleSidecar = subtitleSidecar
    }

    /// `container` when it is one of the fixed set.
    var knownContainer: String? {
        container.flatMap { (MediaOptions.videoContainers + MediaOptions.audioContainers).contains($0) ? $0 : nil }
    }

    /// The languages that are plain codes: an ASCII letter, then letters, digits and "-", at most 20
    /// (no comma, regex or leading "-" that yt-dlp's `--sub-langs` would read; never "all"); at most 10.
    var languages: [String] {
        let plain = subtitles.filter { tag in
            guard let first = tag.first, first.isASCII, first.isLetter, tag.count <= 20, tag.lowercased() != "all" else { return false }
            return tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        return Array(plain.prefix(MediaOptions.maxSubtitleLanguages))
    }
}

/// A clip of the media, in seconds from its start; no end: to the end.
public struct MediaClip: Sendable, Equatable {
    public var start: Double
    public var end: Double?

    public init(start: Double, end: Double? = nil) {
        self.start = start
        self.end = end
    }

    /// `*START-END` with three decimals and "inf" for no end, written from whole milliseconds (no
    /// locale); nil when a bound is not finite, negative, past 10^7 s, or the end is not after the start.
    var section: String? {
        func text(_ seconds: Double) -> String? {
            guard seconds.isFinite, seconds >= 0, seconds <= 1e7 else { return nil }
            let ms = Int64((seconds * 1000).rounded())
            let fraction = String(ms % 1000)
            return String(ms / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
        }
        guard let from = text(start) else { return nil }
        guard let end else { return "*" + from + "-inf" }
        guard let to = text(end), end > start else { return nil }
        return "*" + from + "-" + to
    }
}

/// One entry of a playlist (`YTDLP.playlist`): an http(s) URL to fetch, and its title when known.
public struct PlaylistEntry: Sendable, Equatable {
    public let url: String
    public let title: String?

    public init(url: String, title: String?) {
        self.url = url
        self.title = title
    }
}

/// Bounds of one download.
public struct MediaLimits: Sendable {
    /// `--max-filesize`, and the runner's own check of the bytes seen while downloading.
    public var maxBytes: Int64
    /// `--match-filters "!is_live & duration<?N"`.
    public var maxDurationSeconds: Int
    /// The whole run: past it the process group is killed (`timeout`).
    public var wallSeconds: Int
    /// `--socket-timeout`.
    public var socketTimeoutSeconds: Int

    public init(maxBytes: Int64, maxDurationSeconds: Int, wallSeconds: Int, socketTimeoutSeconds: Int = 20) {
        self.maxBytes = maxBytes
        self.maxDurationSeconds = maxDurationSeconds
        self.wallSeconds = wallSeconds
        self.socketTimeoutSeconds = socketTimeoutSeconds
    }
}

/// One progress report while a download runs.
public struct MediaProgress: Sendable, Equatable {
    public var step: Step
    /// 0–100, nil when the size is not known yet.
    public var percent: Double?
    public var bytes: Int64?
    public var totalBytes: Int64?
    /// Bytes per second.
    public var speed: Double?
    /// Seconds left.
    public var eta: Int?

    public enum Step: String, Sendable {
        case downloading, merging, converting
    }

    public init(step: Step, percent: Double? = nil, bytes: Int64? = nil, totalBytes: Int64? = nil, speed: Double? = nil,
                eta: Int? = nil) {
        self.step = step
        self.percent = percent
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.speed = speed
        self.eta = eta
    }
}

public enum MediaDownloadOutcome: Sendable {
    case success(MediaDownloadResult)
    case failure(MediaFetchError)
}

public struct MediaDownloadResult: Sendable {
    /// The file, symlinks resolved, inside the job directory (checked).
    public let path: String
    /// Metadata only: never part of a path.
    public let title: String?
    public let ext: String
    public let extractor: String?
    public let durationSeconds: Double?
    public let sizeBytes: Int64
    /// Subtitle files kept beside the file (`MediaOptions.subtitleSidecar`), checked like it.
    public internal(set) var sidecars: [MediaSidecar]

    public init(path: String, title: String?, ext: String, extractor: String?, durationSeconds: Double?, sizeBytes: Int64,
                sidecars: [MediaSidecar] = []) {
        self.path = path
        self.title = title
        self.ext = ext
        self.extractor = extractor
        self.durationSeconds = durationSeconds
        self.sizeBytes = sizeBytes
        self.sidecars = sidecars
    }
}

/// A subtitle file beside the media: `<stem>.<language>.<ext>` in the job directory.
public struct MediaSidecar: Sendable, Equatable {
    /// Symlinks resolved, inside the job directory (checked), a regular file.
    public let path: String
    /// One of the languages asked for.
    public let language: String
    /// Lowercase letters and digits, at most 8 ("vtt", "srt").
    public let ext: String
    public let sizeBytes: Int64

    public init(path: String, language: String, ext: String, sizeBytes: Int64) {
        self.path = path
        self.language = language
        self.ext = ext
        self.sizeBytes = sizeBytes
    }
}

public struct MediaMetadata: Sendable {
    /// `{"title","duration","uploader","thumbnail","webpage_url","extractor","formats":[…]}`.
    public let json: String
    public let title: String?

    public init(json: String, title: String?) {
        self.json = json
        self.title = title
    }
}

/// Why a fetch failed: a stable code (documented in README) and a readable message with
/// yt-dlp's reason, never a local path.
public struct MediaFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Code
    public let message: String
    /// Worth another attempt (network trouble, a timeout).
    public var transient: Bool

    public init(code: Code, message: String, transient: Bool? = nil) {
        self.code = code
        self.message = message
        self.transient = transient ?? (code == .network || code == .timeout || code == .storageFailed)
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The caller saw the egress guard refuse a connection during a failed run.
    public static func blockedAddress(detail: String) -> MediaFetchError {
        MediaFetchError(code: .blockedAddress, message: "a connection to a non-public address was refused: \(detail)",
                        transient: false)
    }
}

extension MediaFetchError {
    public enum Code: String, Sendable, CaseIterable {
        case unsupportedURL = "unsupported_url", unavailable, tooLarge = "too_large", tooLong = "too_long", isLive = "is_live",
             timeout, network, blockedAddress = "blocked_address", storageFailed = "storage_failed", cancelled, `internal`
    }
}
