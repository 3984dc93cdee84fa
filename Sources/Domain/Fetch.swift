#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Store

/// A fetch: media a client asked for by URL, acquired by the worker (`MediaFetchJob`, yt-dlp)
/// into the stored-bytes store. Seeds 000 (Fetch) and 003 (Downloader) both show it.
/// Fetched media stays a fetch resource: it is never listed under `/files`.
public struct Fetch: Equatable, Sendable {
    public enum Status: String, CaseIterable, Sendable { case pending, running, success, failed }
    /// Where a fetch is: waiting in the queue, the three phases yt-dlp reports, putting the bytes
    /// into the store, finished; `paused`: a job of a paused batch (pending, no queued job yet).
    public enum Step: String, CaseIterable, Sendable { case queued, downloading, merging, converting, storing, done, paused }
    /// The dialect that made the fetch (a NULL column reads as `fetch`).
    public enum Origin: String, CaseIterable, Sendable { case fetch, downloader, jobs }
    /// A fetch as a seed-002 job sees it: pending, running and success as they are; a failure
    /// is `Cancelled` when its code is `cancelled`, else `Failed`.
    public enum JobStatus: String, CaseIterable, Sendable {
        case pending = "Pending", processing = "Processing", completed = "Completed", failed = "Failed", cancelled = "Cancelled"
    }

    public var rowID: Int64
    /// A lowercase UUID v4 (seed 003's ids are UUIDs).
    public var id: String
    public var accountID: Int64
    public var url: String
    public var quality: String
    public var status: Status
    public var step: Step?
    public var progress: FetchProgress
    public var title: String?
    public var extractor: String?
    public var duration: Double?
    /// The download name: the cleaned title and the extension.
    public var filename: String?
    public var sizeBytes: Int64?
    public var contentType: String?
    public var storageKey: String?
    /// Normalised ffprobe JSON text of the stored bytes.
    public var ffprobe: String?
    /// A stable code (`FetchError.Code` values, the worker's codes) and a readable message.
    public var errorCode: String?
    public var errorMessage: String?
    public var webhookURL: String?
    /// A download job's options (seed 002); none for the other dialects' fetches.
    public var options: FetchOptions
    /// Subtitle files stored beside the media (`subtitle_mode: sidecar`).
    public var sidecars: [FetchSidecar]
    public var origin: Origin
    /// The public id of the job batch it belongs to (seed 002 bulk creates).
    public var batchID: String?
    public var createdAt: Int64
    /// When the row last changed (every write sets it).
    public var updatedAt: Int64
    /// Where the file went in the account's own bucket (`BucketService`); nil: stored by us.
    public var objectKey: String?
    public var startedAt: Int64?
    public var finishedAt: Int64?

    /// The keys of everything stored for it: the media and its sidecars.
    var storedKeys: [String] { [storageKey].compactMap { $0 } + sidecars.map(\.storageKey) }

    /// Finished: nothing runs for it any more.
    public var isFinished: Bool { status == .success || status == .failed }

    public var jobStatus: JobStatus {
        switch status {
        case .pending: .pending
        case .running: .processing
        case .success: .completed
        case .failed: errorCode == FetchService.cancelledCode ? .cancelled : .failed
        }
    }

    init(row: Row) {
        rowID = row.int("id") ?? 0
        id = row.string("public_id") ?? ""
        accountID = row.int("account_id") ?? 0
        url = row.string("url") ?? ""
        quality = row.string("quality") ?? ""
        status = row.string("status").flatMap(Status.init(rawValue:)) ?? .pending
        step = row.string("step").flatMap(Step.init(rawValue:))
        progress = FetchProgress(step: step ?? .queued, percent: row.double("progress_percent"), bytes: row.int("progress_bytes"),
                                 totalBytes: row.int("progress_total"), speed: row.double("progress_speed"),
                                 eta: row.int("progress_eta"))
        title = row.string("title")
        extractor = row.string("extractor")
        duration = row.double("duration")
        filename = row.string("filename")
        sizeBytes = row.int("size_bytes")
        contentType = row.string("content_type")
        storageKey = row.string("storage_key")
        ffprobe = row.string("ffprobe")
        errorCode = row.string("error_code")
        errorMessage = row.string("error_message")
        webhookURL = row.string("webhook_url")
        options = FetchOptions.stored(row.string("options"))
        sidecars = FetchSidecar.stored(row.string("sidecars"))
        origin = row.string("origin").flatMap(Origin.init(rawValue:)) ?? .fetch
        batchID = row.string("batch_id")
        createdAt = row.int("created_at") ?? 0
        updatedAt = row.int("updated_at") ?? createdAt
        objectKey = row.string("object_key")
        startedAt = row.int("started_at")
        finishedAt = row.int("finished_at")
    }
}

/// How far a running fetch is, as the worker reads it from yt-dlp (unknown values nil).
public struct FetchProgress: Equatable, Sendable {
    public var step: Fetch.Step
    public var percent: Double?
    public var bytes: Int64?
    public var totalBytes: Int64?
    /// Bytes per second.
    public var speed: Double?
    /// Seconds left.
    public var eta: Int64?

    public init(step: Fetch.Step, percent: Double? = nil, bytes: Int64? = nil, totalBytes: Int64? = nil, speed: Double? = nil,
                eta: Int64? = nil) {
        self.step = step
        self.percent = percent
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.speed = speed
        self.eta = eta
    }
}

/// The quality presets both dialects take: the one list (the worker maps each onto a fixed
/// yt-dlp format selector; Media's `QualityPreset` has the same raw values).
public enum FetchQuality: String, CaseIterable, Sendable {
    case best, p1080 = "1080p", p720 = "720p", p480 = "480p", p360 = "360p", audio, mp4

    /// "best, 1080p, 720p, 480p, 360p, audio, mp4": what an error lists.
    public static let valid = allCases.map(\.rawValue).joined(separator: ", ")

    /// The preset named `text`, or `DomainError.invalid` listing the valid ones.
    public static func parse(_ text: String) throws -> FetchQuality {
        guard let quality = FetchQuality(rawValue: text) else {
            throw DomainError.invalid("quality must be one of: \(valid)")
        }
        return quality
    }
}

/// What a successful fetch stored, for `FetchService.succeed`.
public struct FetchedMedia: Sendable {
    public var storageKey: String
    public var filename: String
    public var sizeBytes: Int64
    public var contentType: String
    public var title: String?
    public var extractor: String?
    public var duration: Double?
    public var ffprobe: String?
    /// Stored with the media, in the same transaction.
    public var sidecars: [FetchSidecar]

    public init(storageKey: String, filename: String, sizeBytes: Int64, contentType: String, title: String?, extractor: String?,
                duration: Double?, ffprobe: String?, sidecars: [FetchSidecar] = []) {
        self.sidecars = sidecars
        self.storageKey = storageKey
        self.filename = filename
        self.sizeBytes = sizeBytes
        self.contentType = contentType
        self.title = title
        self.extractor = extractor
        self.duration = duration
        self.ffprobe = ffprobe
    }
}

/// A subtitle file stored beside a fetch's media: `f/<public id>.<language>.<ext>`. Kept as a JSON
/// list in `fetches.sidecars` (NULL: none); removed with the media.
public struct FetchSidecar: Codable, Equatable, Sendable {
    public var storageKey: String
    public var language: String
    /// "vtt", "srt": lowercase letters and digits.
    public var ext: String
    public var sizeBytes: Int64

    public init(storageKey: String, language: String, ext: String, sizeBytes: Int64) {
        self.storageKey = storageKey
        self.language = language
        self.ext = ext
        self.sizeBytes = sizeBytes
    }

    /// The column's text; nil for none.
    static func stored(_ sidecars: [FetchSidecar]) -> String? {
        guard !sidecars.isEmpty, let data = try? JSONEncoder().encode(sidecars) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The column read back; nil or unreadable text reads as none.
    static func stored(_ text: String?) -> [FetchSidecar] {
        guard let text, let list = try? JSONDecoder().decode([FetchSidecar].self, from: Data(text.utf8)) else { return [] }
        return list
    }
}

/// Acquire a fetch's media (the worker's yt-dlp runner). Payload and subject: the fetch's public id.
public enum MediaFetchJob: JobKind {
    public typealias Payload = String
    public static let name = "media.fetch"
    public static let lane = JobLane.fetch
    public static let maxAttempts: Int64 = 3
    public static func subject(of payload: String) -> String? { payload }
}
