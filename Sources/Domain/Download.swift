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
        try list(" WHERE d.account_id = ?", [accountID], page)
    }

    public func list(accountID: Int64, itemID: Int64, page: Page) throws -> [Download] {
        try list(" WHERE d.account_id = ? AND d.item_id = ?", [accountID, itemID], page)
    }

    public func list(orderItemID: Int64) throws -> [Download] {
        try db.query(DownloadService.select + " WHERE d.order_item_ref = ? ORDER BY d.id", [orderItemID]).map(Download.init(row:))
    }

    public func list(accountID: Int64, orderID: Int64, page: Page) throws -> [Download] {
        try list(" WHERE d.account_id = ? AND d.order_ref = ?", [accountID, orderID], page)
    }

    /// A page of the log, newest first, of the downloads `condition` selects.
    private func list(_ condition: String, _ arguments: [any SQLBindable], _ page: Page) throws -> [Download] {
        try OffsetWindow.rows(db, DownloadService.select + condition, arguments, orderedBy: "d.id", descending: true, page: page,
                              count: "SELECT COUNT(*) AS n FROM downloads d" + condition).map(Download.init(row:))
    }

    public func get(accountID: Int64, id: Int64) throws -> Download {
        guard let row = try db.queryOne(DownloadService.select + " WHERE d.account_id = ? AND d.id = ?", [accountID, id]) else {
            throw DomainError.notFound("download \(id) not found")
        }
        return Download(row: row)
    }
}
