import Domain
import HTTPCore

/// Shapes of the Files dialect's entities. Replies, lists and failures are `JSONWire`'s.
enum JSONViews {
    /// A file. `error`/`ffprobe_error` are readable messages and `error_code`/`ffprobe_error_code`
    /// their stable codes (`MediaFileError`); neither ever carries a path or a tool's own text.
    /// An error on a file that has not failed (pending or processing) is its last attempt's: it will be retried.
    static func file(_ file: MediaFile, downloadPath: String?) -> JSON {
        let failure = file.failure
        let probeFailure = file.probeFailure
        let retrying = file.status == .pending || file.status == .processing
        return .object([
            ("id", .string(file.id)),
            ("name", .string(file.name)),
            ("source", .string(file.source.rawValue)),
            ("source_url", .optional(file.sourceURL)),
            ("status", .string(file.status.rawValue)),
            ("size_bytes", .optional(file.sizeBytes)),
            ("content_type", .optional(file.contentType)),
            ("created_at", .string(DateTime.format(file.createdAt))),
            ("download_url", .optional(downloadPath)),
            ("error", .optional(failure.map { retrying ? $0.message + "; will retry" : $0.message })),
            ("error_code", .optional(failure?.code.rawValue)),
            ("ffprobe", file.ffprobe.map(JSON.raw) ?? .null),
            ("ffprobe_error", .optional(probeFailure?.message)),
            ("ffprobe_error_code", .optional(probeFailure?.code.rawValue)),
        ])
    }
}
