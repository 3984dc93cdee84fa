import Store

/// A customer's order: who bought what, until when, how many downloads each.
public struct Order: Equatable, Sendable {
    public var id: Int64
    public var accountID: Int64
    /// The client-visible order id (given by the client or assigned), unique per account.
    public var number: String
    public var title: String
    public var firstName: String
    public var lastName: String
    public var email: String
    public var expirationDate: Int64
    public var downloadLimit: Int64
    public var manual: Bool
    public var downloadCount: Int64
    public var createdAt: Int64
    public var items: [OrderItem]

    init(row: Row, items: [OrderItem]) {
        id = row.int("id") ?? 0
        accountID = row.int("account_id") ?? 0
        number = row.string("number") ?? ""
        title = row.string("title") ?? ""
        firstName = row.string("first_name") ?? ""
        lastName = row.string("last_name") ?? ""
        email = row.string("email") ?? ""
        expirationDate = row.int("expiration_date") ?? 0
        downloadLimit = row.int("download_limit") ?? 0
        manual = row.bool("manual")
        downloadCount = row.int("download_count") ?? 0
        createdAt = row.int("created_at") ?? 0
        self.items = items
    }

    static let select = """
        SELECT o.*, (SELECT COUNT(*) FROM downloads d WHERE d.order_ref = o.id) AS download_count FROM orders o
        """
}

/// One item of an order; its GUID is the secret of the customer's download link.
public struct OrderItem: Equatable, Sendable {
    public var id: Int64
    public var orderID: Int64
    public var itemID: Int64
    public var sku: String
    public var itemName: String
    public var guid: String
    public var downloadsRemaining: Int64
    public var downloadCount: Int64
    public var createdAt: Int64
    public var downloads: [Download]

    init(row: Row, downloads: [Download]) {
        id = row.int("id") ?? 0
        orderID = row.int("order_id") ?? 0
        itemID = row.int("item_id") ?? 0
        sku = row.string("sku") ?? ""
        itemName = row.string("item_name") ?? ""
        guid = row.string("guid") ?? ""
        downloadsRemaining = row.int("downloads_remaining") ?? 0
        downloadCount = row.int("download_count") ?? 0
        createdAt = row.int("created_at") ?? 0
        self.downloads = downloads
    }

    static let select = """
        SELECT oi.*, i.sku, i.name AS item_name,
               (SELECT COUNT(*) FROM downloads d WHERE d.order_item_ref = oi.id) AS download_count
        FROM order_items oi JOIN items i ON i.id = oi.item_id
        """
}

/// Fields a client may set on an order; nil leaves a field as it is (or takes the default).
public struct OrderInput: Equatable, Sendable {
    public var number: String?
    public var title: String?
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var expirationDate: Int64?
    public var downloadLimit: Int64?
    /// nil: leave the item list as it is (update) / no items (create).
    public var items: [OrderItemInput]?
    public var sendEmail: Bool?

    public init(number: String? = nil, title: String? = nil, firstName: String? = nil, lastName: String? = nil,
                email: String? = nil, expirationDate: Int64? = nil, downloadLimit: Int64? = nil,
                items: [OrderItemInput]? = nil, sendEmail: Bool? = nil) {
        self.number = number
        self.title = title
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
        self.expirationDate = expirationDate
        self.downloadLimit = downloadLimit
        self.items = items
        self.sendEmail = sendEmail
    }
}

public struct OrderItemInput: Equatable, Sendable {
    public var sku: String
    /// Overrides the order's download limit for this item.
    public var downloadsRemaining: Int64?

    public init(sku: String, downloadsRemaining: Int64? = nil) {
        self.sku = sku
        self.downloadsRemaining = downloadsRemaining
    }
}

/// Which orders a list shows.
public enum OrderFilter: String, Sendable {
    case all, current, manual, expired
}
