// The values the yt-dlp runner takes and gives: the public contract of both fetch dialects
// (presets, error codes). Plain values only, no process plumbing, so the fuzz target can
// build this file as it is.

/// A quality a user may ask for; each maps to a fixed yt-dlp format selector (`YTDLP.formatArguments`).
public enum QualityPreset: String, CaseIterable, Sendable {
    case best, p1080 = "1080p", p720 = "720p", p480 = "480p", p360 = "360p", audio, mp4
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

    public init(path: String, title: String?, ext: String, extractor: String?, durationSeconds: Double?, sizeBytes: Int64) {
        self.path = path
        self.title = title
        self.ext = ext
        self.extractor = extractor
        self.durationSeconds = durationSeconds
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
