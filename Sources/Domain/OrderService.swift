import Crypto
import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Store

/// Orders of an account: list, show, create, update, delete, expire, send the email.
/// Every change is one transaction; the order email is queued in the same transaction.
public struct OrderService {
    let db: any Database
    let clock: Clock
    /// The absolute link an order email gives for an order item's GUID: the dialect that serves
    /// the links builds it from its configuration. Without one an email names the bare GUID.
    let customerLink: @Sendable (_ guid: String) -> String

    public init(db: any Database, clock: Clock = .system, customerLink: @escaping @Sendable (_ guid: String) -> String = { $0 }) {
        self.db = db
        self.clock = clock
        self.customerLink = customerLink
    }

    public func list(accountID: Int64, filter: OrderFilter, page: Page) throws -> [Order] {
        let condition: String
        switch filter {
        case .all: condition = ""
        case .current: condition = " AND o.expiration_date > ?"
        case .expired: condition = " AND o.expiration_date <= ?"
        case .manual: condition = " AND o.manual = TRUE"
        }
        var arguments: [any SQLBindable] = [accountID]
        if filter == .current || filter == .expired { arguments.append(clock.now()) }
        let rows = try OffsetWindow.rows(db, Order.select + " WHERE o.account_id = ?\(condition)", arguments, orderedBy: "o.id",
                                         descending: false, page: page,
                                         count: "SELECT COUNT(*) AS n FROM orders o WHERE o.account_id = ?\(condition)")
        return try rows.map { Order(row: $0, items: try items(orderID: $0.int("id") ?? 0)) }
    }

    public func get(accountID: Int64, number: String) throws -> Order {
        guard let row = try db.queryOne(Order.select + " WHERE o.account_id = ? AND o.number = ?", [accountID, number]) else {
            throw DomainError.notFound("Order \(number) not found")
        }
        return Order(row: row, items: try items(orderID: row.int("id") ?? 0))
    }

    func items(orderID: Int64) throws -> [OrderItem] {
        let downloads = DownloadService(db: db)
        return try db.query(OrderItem.select + " WHERE oi.order_id = ? ORDER BY oi.id", [orderID]).map { row in
            OrderItem(row: row, downloads: try downloads.list(orderItemID: row.int("id") ?? 0))
        }
    }

    /// Creates an order. Defaults from the account: expiry (now + order_expiration_in_hours)
    /// and download limit (download_limit_per_item). `sendEmail` defaults to true.
    public func create(accountID: Int64, _ input: OrderInput, manual: Bool = false) throws -> Order {
        try OrderService.validate(input)
        guard let wanted = input.items, !wanted.isEmpty else {
            throw DomainError.unprocessable("An order needs at least one item (order_items)")
        }
        return try db.write {
            guard let account = try AccountService(db: db).account(id: accountID) else {
                throw DomainError.notFound("account not found")
            }
            let now = clock.now()
            let number = try input.number.flatMap { $0.isEmpty ? nil : $0 } ?? nextNumber(accountID: accountID)
            let limit = input.downloadLimit ?? account.downloadLimitPerItem
            let expiry = try input.expirationDate ?? OrderService.expiry(from: now, hours: account.orderExpirationInHours)
            let orderID: Int64
            do {
                orderID = try db.insert("""
                    INSERT INTO orders (account_id, number, number_value, title, first_name, last_name, email, expiration_date,
                                        download_limit, manual, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """, [accountID, number, OrderService.numberValue(number), input.title ?? "Order #\(number)",
                          input.firstName ?? "", input.lastName ?? "", input.email ?? "", expiry, limit, manual, now, now])
            } catch let error as any DatabaseError where error.isConstraintViolation {
                throw DomainError.unprocessable("Order \(number) already exists")
            }
            try replaceItems(orderID: orderID, accountID: accountID, wanted: wanted, limit: limit, previousLimit: nil)
            let order = try get(accountID: accountID, number: number)
            if input.sendEmail ?? true, !order.email.isEmpty { try queueEmail(order) }
            return order
        }
    }

    /// Updates any field, the order id and the item list included. `sendEmail` defaults to false.
    /// Items left out of a new list lose their link; their download log stays.
    public func update(accountID: Int64, number: String, _ input: OrderInput) throws -> Order {
        try OrderService.validate(input)
        if let wanted = input.items, wanted.isEmpty {
            throw DomainError.unprocessable("An order needs at least one item (order_items)")
        }
        return try db.write {
            let current = try get(accountID: accountID, number: number)
            let newNumber = input.number.flatMap { $0.isEmpty ? nil : $0 } ?? current.number
            let limit = input.downloadLimit ?? current.downloadLimit
            do {
                try db.execute("""
                    UPDATE orders SET number = ?, number_value = ?, title = ?, first_name = ?, last_name = ?, email = ?,
                        expiration_date = ?, download_limit = ?, updated_at = ? WHERE id = ?
                    """, [newNumber, OrderService.numberValue(newNumber), input.title ?? current.title, input.firstName ?? current.firstName,
                          input.lastName ?? current.lastName, input.email ?? current.email,
                          input.expirationDate ?? current.expirationDate, limit, clock.now(), current.id])
            } catch let error as any DatabaseError where error.isConstraintViolation {
                throw DomainError.unprocessable("Order \(newNumber) already exists")
            }
            if newNumber != current.number {
                // The log shows the order's current id.
                try db.execute("UPDATE downloads SET order_number = ? WHERE order_ref = ?", [newNumber, current.id])
            }
            let wanted = input.items ?? current.items.map { OrderItemInput(sku: $0.sku) }
            try replaceItems(orderID: current.id, accountID: accountID, wanted: wanted, limit: limit,
                             previousLimit: current.downloadLimit)
            let order = try get(accountID: accountID, number: newNumber)
            if input.sendEmail ?? false {
                guard !order.email.isEmpty else { throw DomainError.unprocessable("Order \(newNumber) has no email address") }
                try queueEmail(order)
            }
            return order
        }
    }

    public func delete(accountID: Int64, number: String) throws {
        try db.write {
            let order = try get(accountID: accountID, number: number)
            try db.execute("DELETE FROM orders WHERE id = ?", [order.id])
        }
    }

    /// Expires the order now: its links stop working at once.
    public func expire(accountID: Int64, number: String) throws {
        try db.write {
            let order = try get(accountID: accountID, number: number)
            try db.execute("UPDATE orders SET expiration_date = ?, updated_at = ? WHERE id = ?", [clock.now(), clock.now(), order.id])
        }
    }

    /// Queues the order email. `expirationDate` sets the expiry; otherwise `resetExpiration`
    /// (default true) restarts it from the account setting.
    public func sendEmail(accountID: Int64, number: String, resetExpiration: Bool = true, expirationDate: Int64? = nil) throws {
        try db.write {
            let order = try get(accountID: accountID, number: number)
            guard !order.email.isEmpty else { throw DomainError.unprocessable("Order \(number) has no email address") }
            let now = clock.now()
            var expiry = order.expirationDate
            if let expirationDate {
                expiry = expirationDate
            } else if resetExpiration, let account = try AccountService(db: db).account(id: accountID) {
                expiry = try OrderService.expiry(from: now, hours: account.orderExpirationInHours)
            }
            try db.execute("UPDATE orders SET expiration_date = ?, updated_at = ? WHERE id = ?", [expiry, now, order.id])
            try queueEmail(try get(accountID: accountID, number: number))
        }
    }

    /// Makes the order's item list equal `wanted`. Kept items keep their link and count; a
    /// changed limit moves their remaining downloads by the same amount (never below zero).
    private func replaceItems(orderID: Int64, accountID: Int64, wanted: [OrderItemInput], limit: Int64, previousLimit: Int64?) throws {
        var seen = Set<Int64>()
        let now = clock.now()
        for entry in wanted {
            guard let item = try db.queryOne("SELECT id FROM items WHERE account_id = ? AND sku = ?", [accountID, entry.sku]),
                  let itemID = item.int("id") else {
                throw DomainError.unprocessable("Unknown SKU \(entry.sku)")
            }
            guard seen.insert(itemID).inserted else { continue }
            if let existing = try db.queryOne("SELECT id, downloads_remaining FROM order_items WHERE order_id = ? AND item_id = ?",
                                              [orderID, itemID]) {
                var remaining = existing.int("downloads_remaining") ?? 0
                if let explicit = entry.downloadsRemaining {
                    remaining = explicit
                } else if let previousLimit, previousLimit != limit {
                    // Both limits lie in FieldRules.downloadCount, so this cannot overflow;
                    // clamped all the same, as a stored row may predate the rule.
                    remaining = FieldRules.clamp(remaining, plus: limit, minus: previousLimit, to: FieldRules.downloadCount)
                }
                try db.execute("UPDATE order_items SET downloads_remaining = ? WHERE id = ?", [remaining, existing.int("id")])
            } else {
                try db.execute("""
                    INSERT INTO order_items (order_id, item_id, guid, downloads_remaining, created_at) VALUES (?, ?, ?, ?, ?)
                    """, [orderID, itemID, Digest.randomToken(length: 24), entry.downloadsRemaining ?? limit, now])
            }
        }
        let keep = seen.map(String.init).joined(separator: ",")
        try db.execute("DELETE FROM order_items WHERE order_id = ?" + (keep.isEmpty ? "" : " AND item_id NOT IN (\(keep))"), [orderID])
    }

    /// Auto-numbered ids continue from the largest numeric id of at most 18 digits that the
    /// account has (1001 for the first). Longer all-digit ids a client chose are left out, so
    /// the sum always fits 64 bits; past 18 digits auto-numbering stops with a 422.
    private func nextNumber(accountID: Int64) throws -> String {
        let row = try db.queryOne("SELECT MAX(number_value) AS n FROM orders WHERE account_id = ?", [accountID])
        let next = max(1000, row?.int("n") ?? 1000) + 1
        guard next <= OrderService.maxAutoNumber else {
            throw DomainError.unprocessable("Order ids are used up to \(OrderService.maxAutoNumber): give the order an id")
        }
        return String(next)
    }

    static let maxAutoNumber: Int64 = 999_999_999_999_999_999

    /// The value of an order id of 1 to 18 ASCII digits (leading zeros allowed), kept in
    /// `number_value` for `nextNumber`; nil for any other id.
    static func numberValue(_ number: String) -> Int64? {
        let digits = number.utf8
        guard (1...18).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int64(number)
    }

    /// `now` plus an account's expiry setting; checked, as the setting comes from outside.
    static func expiry(from now: Int64, hours: Int64) throws -> Int64 {
        let (seconds, o1) = hours.multipliedReportingOverflow(by: 3600)
        let (sum, o2) = now.addingReportingOverflow(seconds)
        guard !o1, !o2, FieldRules.expirationHours.contains(hours) else {
            throw DomainError.unprocessable("order_expiration_in_hours of the account is out of range")
        }
        return sum
    }

    /// Command words of `/api/orders/…`: an order with such an id could not be shown by URL.
    static let reservedNumbers: Set<String> = ["create"]

    static func validate(_ input: OrderInput) throws {
        try FieldRules.number(input.downloadLimit, field: "download_limit", in: FieldRules.downloadCount)
        for entry in input.items ?? [] {
            try FieldRules.number(entry.downloadsRemaining, field: "downloads_remaining", in: FieldRules.downloadCount)
            if entry.sku.isEmpty { throw DomainError.unprocessable("Every order item needs a SKU") }
        }
        try FieldRules.text(input.title, field: "title", maxBytes: FieldRules.maxNameBytes)
        try FieldRules.text(input.firstName, field: "first_name", maxBytes: FieldRules.maxPersonNameBytes)
        try FieldRules.text(input.lastName, field: "last_name", maxBytes: FieldRules.maxPersonNameBytes)
        if let email = input.email, !email.isEmpty {
            try FieldRules.text(email, field: "email", maxBytes: FieldRules.maxEmailBytes)
            // The mailer's own rule: an order whose email could never be sent is refused here.
            if let problem = EmailAddress.problem(email) {
                throw DomainError.unprocessable("email \(problem): \(email)")
            }
        }
        if let number = input.number { try FieldRules.identifier(number, field: "order id", reserved: reservedNumbers) }
    }

    private func queueEmail(_ order: Order) throws {
        let message = OrderEmail.compose(order, link: customerLink)
        try JobQueue(db: db, clock: clock).enqueue(OrderEmailJob.self, message, accountID: order.accountID)
    }
}
