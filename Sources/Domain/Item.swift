import Store

/// A sellable digital good: a SKU, a name, a price and (usually) one file.
public struct Item: Equatable, Sendable {
    public var id: Int64
    public var accountID: Int64
    public var sku: String
    public var name: String
    public var price: Double
    public var guid: String
    public var orderCount: Int64
    public var downloadCount: Int64
    public var createdAt: Int64
    public var file: Upload?

    init(row: Row) {
        id = row.int("id") ?? 0
        accountID = row.int("account_id") ?? 0
        sku = row.string("sku") ?? ""
        name = row.string("name") ?? ""
        price = row.double("price") ?? 0
        guid = row.string("guid") ?? ""
        orderCount = row.int("order_count") ?? 0
        downloadCount = row.int("download_count") ?? 0
        createdAt = row.int("created_at") ?? 0
        file = row.int("u_id") == nil ? nil : Upload(row: row, prefix: "u_")
    }

    /// Item columns plus its upload's columns prefixed `u_`. Counters are counted, not kept,
    /// so they are right whatever runs concurrently.
    static let select = """
        SELECT i.*,
               (SELECT COUNT(*) FROM downloads d WHERE d.item_id = i.id) AS download_count,
               (SELECT COUNT(*) FROM order_items oi WHERE oi.item_id = i.id) AS order_count,
               u.id AS u_id, u.account_id AS u_account_id, u.filename AS u_filename,
               u.content_type AS u_content_type, u.size_bytes AS u_size_bytes, u.storage_key AS u_storage_key,
               u.ip_address AS u_ip_address, u.uploaded_at AS u_uploaded_at
        FROM items i LEFT JOIN uploads u ON u.id = i.upload_id
        """
}

/// Fields a client may set on an item; nil leaves a field as it is.
public struct ItemInput: Equatable, Sendable {
    public var sku: String?
    public var name: String?
    public var price: Double?
    /// The file, by upload id…
    public var uploadID: Int64?
    /// …or by upload filename (the newest upload of that name).
    public var filename: String?

    public init(sku: String? = nil, name: String? = nil, price: Double? = nil, uploadID: Int64? = nil, filename: String? = nil) {
        self.sku = sku
        self.name = name
        self.price = price
        self.uploadID = uploadID
        self.filename = filename
    }
}
