import Store

/// Customer delivery: an order item's link and an item's permalink, each found by its GUID (the store dialect owns the URLs).
/// No API credentials: the GUID is the secret. A download counts when it starts.
public struct DeliveryService {
    let db: any Database
    let clock: Clock

    public init(db: any Database, clock: Clock = .system) {
        self.db = db
        self.clock = clock
    }

    public enum Outcome: Equatable, Sendable {
        /// Deliver this file: the download is taken and logged (`downloadID`), or, for a
        /// look that takes nothing (HEAD), nil.
        case deliver(Upload, downloadID: Int64?)
        /// The link is good, but the request can be sent no byte of this file (an
        /// unsatisfiable Range): nothing is taken or logged.
        case unsendable(Upload)
        case notFound
        case expired
        case exhausted
        /// The item has no file attached.
        case noFile
    }

    /// What a request wants of a link: to take a download, or only to look (HEAD, link
    /// checkers, mail scanners). `sends` tells whether the request would be sent any byte
    /// of the file; one that would not takes nothing.
    public struct Request {
        public var ipAddress: String
        public var takes: Bool
        public var sends: (Upload) -> Bool

        public init(ipAddress: String, takes: Bool = true, sends: @escaping (Upload) -> Bool = { _ in true }) {
            self.ipAddress = ipAddress
            self.takes = takes
            self.sends = sends
        }
    }

    /// Takes one download of an order item in one statement (`downloads_remaining > 0` and
    /// not expired), then logs it, in one transaction: concurrent requests can never take
    /// more downloads than are left.
    public func claimOrderLink(guid: String, ipAddress: String) throws -> Outcome {
        try claimOrderLink(guid: guid, Request(ipAddress: ipAddress))
    }

    public func claimOrderLink(guid: String, _ request: Request) throws -> Outcome {
        let now = clock.now()
        return try db.transaction(immediate: request.takes) {
            guard let link = try db.queryOne("""
                SELECT oi.id, oi.order_id, oi.item_id, oi.downloads_remaining, o.expiration_date, o.number, o.account_id,
                       i.sku, i.upload_id
                FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN items i ON i.id = oi.item_id
                WHERE oi.guid = ?
                """, [guid]) else { return .notFound }
            guard let uploadID = link.int("upload_id"),
                  let upload = try db.queryOne("SELECT * FROM uploads WHERE id = ?", [uploadID]).map({ Upload(row: $0) }) else {
                return .noFile
            }
            if (link.int("expiration_date") ?? 0) <= now { return .expired }
            guard (link.int("downloads_remaining") ?? 0) > 0 else { return .exhausted }
            // A look takes nothing, so the front server may judge it whole (HEAD: nginx's own verdict).
            guard request.takes else { return .deliver(upload, downloadID: nil) }
            guard request.sends(upload) else { return .unsendable(upload) }
            let taken = try db.execute("""
                UPDATE order_items SET downloads_remaining = downloads_remaining - 1
                WHERE id = ? AND downloads_remaining > 0
                """, [link.int("id")])
            guard taken == 1 else { return .exhausted }
            let id = try log(accountID: link.int("account_id") ?? 0, itemID: link.int("item_id"), sku: link.string("sku") ?? "",
                             orderRef: link.int("order_id"), orderItemRef: link.int("id"), orderNumber: link.string("number"),
                             upload: upload, ipAddress: request.ipAddress, at: now)
            return .deliver(upload, downloadID: id)
        }
    }

    /// The item's file without an order; logged without an order id.
    public func claimPermalink(guid: String, ipAddress: String) throws -> Outcome {
        try claimPermalink(guid: guid, Request(ipAddress: ipAddress))
    }

    public func claimPermalink(guid: String, _ request: Request) throws -> Outcome {
        let now = clock.now()
        return try db.transaction(immediate: request.takes) {
            guard let item = try db.queryOne("SELECT id, account_id, sku, upload_id FROM items WHERE guid = ?", [guid]) else {
                return .notFound
            }
            guard let uploadID = item.int("upload_id"),
                  let upload = try db.queryOne("SELECT * FROM uploads WHERE id = ?", [uploadID]).map({ Upload(row: $0) }) else {
                return .noFile
            }
            // A look takes nothing, so the front server may judge it whole (HEAD: nginx's own verdict).
            guard request.takes else { return .deliver(upload, downloadID: nil) }
            guard request.sends(upload) else { return .unsendable(upload) }
            let id = try log(accountID: item.int("account_id") ?? 0, itemID: item.int("id"), sku: item.string("sku") ?? "",
                             orderRef: nil, orderItemRef: nil, orderNumber: nil, upload: upload, ipAddress: request.ipAddress, at: now)
            return .deliver(upload, downloadID: id)
        }
    }

    private func log(accountID: Int64, itemID: Int64?, sku: String, orderRef: Int64?, orderItemRef: Int64?,
                     orderNumber: String?, upload: Upload, ipAddress: String, at now: Int64) throws -> Int64 {
        try db.insert("""
            INSERT INTO downloads (account_id, item_id, item_sku, order_ref, order_item_ref, order_number, filename,
                                   ip_address, size_bytes, downloaded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [accountID, itemID, sku, orderRef, orderItemRef, orderNumber, upload.filename, ipAddress, upload.sizeBytes, now])
    }
}
