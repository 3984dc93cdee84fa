import Store

/// One logged delivery of a file (order link or permalink).
public struct Download: Equatable, Sendable {
    public var id: Int64
    public var filename: String
    public var itemSKU: String
    /// The order's public id; nil for a permalink download.
    public var orderNumber: String?
    public var ipAddress: String
    public var downloadedAt: Int64
    public var sizeBytes: Int64

    init(row: Row) {
        id = row.int("id") ?? 0
        filename = row.string("filename") ?? ""
        itemSKU = row.string("current_sku") ?? row.string("item_sku") ?? ""
        orderNumber = row.string("order_number")
        ipAddress = row.string("ip_address") ?? ""
        downloadedAt = row.int("downloaded_at") ?? 0
        sizeBytes = row.int("size_bytes") ?? 0
    }
}

/// Reads the downloads log.
public struct DownloadService {
    let db: any Database

    public init(db: any Database) { self.db = db }

    static let select = "SELECT d.*, i.sku AS current_sku FROM downloads d LEFT JOIN items i ON i.id = d.item_id"

    public func list(accountID: Int64, page: Page) throws -> [Download] {
        try db.query(DownloadService.select + " WHERE d.account_id = ? ORDER BY d.id DESC LIMIT ? OFFSET ?",
                     [accountID, page.limit, page.offset]).map(Download.init(row:))
    }

    public func list(accountID: Int64, itemID: Int64, page: Page) throws -> [Download] {
        try db.query(DownloadService.select + " WHERE d.account_id = ? AND d.item_id = ? ORDER BY d.id DESC LIMIT ? OFFSET ?",
                     [accountID, itemID, page.limit, page.offset]).map(Download.init(row:))
    }

    public func list(orderItemID: Int64) throws -> [Download] {
        try db.query(DownloadService.select + " WHERE d.order_item_ref = ? ORDER BY d.id", [orderItemID]).map(Download.init(row:))
    }

    public func list(accountID: Int64, orderID: Int64, page: Page) throws -> [Download] {
        try db.query(DownloadService.select + " WHERE d.account_id = ? AND d.order_ref = ? ORDER BY d.id DESC LIMIT ? OFFSET ?",
                     [accountID, orderID, page.limit, page.offset]).map(Download.init(row:))
    }

    public func get(accountID: Int64, id: Int64) throws -> Download {
        guard let row = try db.queryOne(DownloadService.select + " WHERE d.account_id = ? AND d.id = ?", [accountID, id]) else {
            throw DomainError.notFound("download \(id) not found")
        }
        return Download(row: row)
    }
}
