import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The typed options of a download job (seed 002's `POST /jobs`), beyond the quality preset:
/// the container, audio only, a height cap, a clip, subtitles and the download name. Stored as
/// JSON in `fetches.options` (NULL: none); the worker maps each onto a fixed yt-dlp option, so
/// no value ever reaches yt-dlp as free text. Fetches of seeds 000 and 003 have none.
public struct FetchOptions: Codable, Equatable, Sendable {
    /// The container the file ends up in; the audio ones imply audio only.
    public enum Container: String, Codable, CaseIterable, Sendable {
        case mp4, webm, mkv, mp3, m4a, opus, wav
        public var isAudio: Bool { [.mp3, .m4a, .opus, .wav].contains(self) }
    }

    /// Subtitles embedded in the file, or stored beside it.
    public enum SubtitleMode: String, Codable, CaseIterable, Sendable { case embed, sidecar }

    public var format: Container?
    public var audioOnly: Bool
    /// The largest height (`max_resolution` / `quality` as a height): one of `allowedHeights`.
    public var maxHeight: Int?
    /// A clip, in seconds from the start (`start_time` / `end_time`); either may be nil.
    public var clipStart: Double?
    public var clipEnd: Double?
    /// Subtitle languages (`en`, `pt-BR`), at most `maxSubtitleLanguages`; empty: none.
    public var subtitles: [String]
    public var subtitleMode: SubtitleMode
    /// The download name without its extension (the title when nil).
    public var filename: String?

    public static let allowedHeights = [2160, 1440, 1080, 720, 480, 360, 240, 144]
    public static let maxSubtitleLanguages = 10
    /// The longest clip bound accepted (24 h), in seconds.
    public static let maxClipSeconds = 86_400.0

    public init(format: Container? = nil, audioOnly: Bool = false, maxHeight: Int? = nil, clipStart: Double? = nil,
                clipEnd: Double? = nil, subtitles: [String] = [], subtitleMode: SubtitleMode = .embed, filename: String? = nil) {
        self.format = format
        self.audioOnly = audioOnly
        self.maxHeight = maxHeight
        self.clipStart = clipStart
        self.clipEnd = clipEnd
        self.subtitles = subtitles
        self.subtitleMode = subtitleMode
        self.filename = filename
    }

    /// No option given.
    public var isEmpty: Bool { self == FetchOptions() }

    /// Audio only, asked for or implied by an audio container.
    public var wantsAudioOnly: Bool { audioOnly || format?.isAudio == true }

    /// Refuses values outside the rules (`DomainError.invalid`, naming the field): a height not
    /// in `allowedHeights`, a clip bound negative, not finite, past 24 h or an end not after the
    /// start, a subtitle language that is not a language tag, an empty or over-long filename.
    public func validate() throws {
        if let maxHeight, !FetchOptions.allowedHeights.contains(maxHeight) {
            throw DomainError.invalid("max_resolution must be one of \(FetchOptions.allowedHeights.map(String.init).joined(separator: ", "))")
        }
        for (name, value) in [("start_time", clipStart), ("end_time", clipEnd)] {
            if let value, !(value.isFinite && value >= 0 && value <= FetchOptions.maxClipSeconds) {
                throw DomainError.invalid("\(name) must be a number of seconds from 0 to \(Int(FetchOptions.maxClipSeconds))")
            }
        }
        if let clipStart, let clipEnd, clipEnd <= clipStart {
            throw DomainError.invalid("end_time must be after start_time")
        }
        guard subtitles.count <= FetchOptions.maxSubtitleLanguages else {
            throw DomainError.invalid("subtitles takes at most \(FetchOptions.maxSubtitleLanguages) languages")
        }
        for language in subtitles where !FetchOptions.isLanguageTag(language) {
            throw DomainError.invalid("subtitles: '\(language.prefix(20))' is not a language code (like en or pt-BR)")
        }
        if let filename {
            try FieldRules.text(filename, field: "filename", maxBytes: FieldRules.maxFilenameBytes)
            guard !Whitespace.trim(filename, newlines: false).isEmpty else { throw DomainError.invalid("filename must not be empty") }
        }
    }

    /// `en`, `eng`, `pt-BR`, `zh-Hans`: 2-3 letters, then up to two subtags of 2-8 letters or digits.
    public static func isLanguageTag(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), let first = parts.first, (2...3).contains(first.count),
              first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return parts.dropFirst().allSatisfy { part in
            (2...8).contains(part.count) && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
    }

    /// The JSON stored in `fetches.options`; nil for no options (the column stays NULL).
    public func stored() -> String? {
        guard !isEmpty, let data = try? JSONEncoder().encode(self) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Options read back from the column; nil or unreadable text reads as none.
    public static func stored(_ text: String?) -> FetchOptions {
        guard let text, let options = try? JSONDecoder().decode(FetchOptions.self, from: Data(text.utf8)) else { return FetchOptions() }
        return options
    }
}
