import Store

/// A file of the Files API: uploaded or imported from a URL, then probed.
public struct MediaFile: Equatable, Sendable {
    public enum Source: String, Sendable { case upload, url }
    public enum Status: String, Sendable { case pending, processing, ready, failed }

    public var rowID: Int64
    public var id: String
    public var accountID: Int64
    public var name: String
    public var source: Source
    public var sourceURL: String?
    public var status: Status
    public var sizeBytes: Int64?
    public var contentType: String?
    public var storageKey: String?
    public var error: String?
    /// Normalised ffprobe result as JSON text, nil until probed or when not media.
    public var ffprobe: String?
    public var ffprobeError: String?
    public var createdAt: Int64

    init(row: Row) {
        rowID = row.int("id") ?? 0
        id = row.string("public_id") ?? ""
        accountID = row.int("account_id") ?? 0
        name = row.string("name") ?? ""
        source = Source(rawValue: row.string("source") ?? "") ?? .upload
        sourceURL = row.string("source_url")
        status = Status(rawValue: row.string("status") ?? "") ?? .pending
        sizeBytes = row.int("size_bytes")
        contentType = row.string("content_type")
        storageKey = row.string("storage_key")
        error = row.string("error")
        ffprobe = row.string("ffprobe")
        ffprobeError = row.string("ffprobe_error")
        createdAt = row.int("created_at") ?? 0
    }
}
