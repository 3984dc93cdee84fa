import Store

/// A stored file of an account, ready to be attached to items.
public struct Upload: Equatable, Sendable {
    public var id: Int64
    public var accountID: Int64
    public var filename: String
    public var contentType: String
    public var sizeBytes: Int64
    public var storageKey: String
    public var ipAddress: String
    public var uploadedAt: Int64

    init(row: Row, prefix: String = "") {
        id = row.int(prefix + "id") ?? 0
        accountID = row.int(prefix + "account_id") ?? 0
        filename = row.string(prefix + "filename") ?? ""
        contentType = row.string(prefix + "content_type") ?? "application/octet-stream"
        sizeBytes = row.int(prefix + "size_bytes") ?? 0
        storageKey = row.string(prefix + "storage_key") ?? ""
        ipAddress = row.string(prefix + "ip_address") ?? ""
        uploadedAt = row.int(prefix + "uploaded_at") ?? 0
    }
}
