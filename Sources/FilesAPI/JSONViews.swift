import Domain
import HTTPCore

/// Shapes of the Files dialect's entities. Replies, lists and failures are `JSONWire`'s.
enum JSONViews {
    static func file(_ file: MediaFile, downloadPath: String?) -> JSON {
        .object([
            ("id", .string(file.id)),
            ("name", .string(file.name)),
            ("source", .string(file.source.rawValue)),
            ("source_url", .optional(file.sourceURL)),
            ("status", .string(file.status.rawValue)),
            ("size_bytes", .optional(file.sizeBytes)),
            ("content_type", .optional(file.contentType)),
            ("created_at", .string(DateTime.format(file.createdAt))),
            ("download_url", .optional(downloadPath)),
            ("error", .optional(file.error)),
            ("ffprobe", file.ffprobe.map(JSON.raw) ?? .null),
            ("ffprobe_error", .optional(file.ffprobeError)),
        ])
    }
}
