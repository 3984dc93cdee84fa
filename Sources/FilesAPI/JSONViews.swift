import Dialect
import Domain
import HTTPCore

/// Wire shapes of the Files dialect.
enum JSONViews {
    static func reply(_ value: JSON, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: value.rendered())
    }

    /// `{"error": {"code": …, "message": …}}` with the failure's status.
    static func failure(_ failure: Failure) -> Response {
        let message = failure.status == 401 ? "Send your API key in the X-API-KEY header" : failure.message
        var response = reply(.object([("error", .object([("code", .string(failure.code)), ("message", .string(message))]))]),
                             status: failure.status)
        response.headers.append(contentsOf: failure.headers)
        return response
    }

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
