import Crypto
import Store

/// Items of an account: list, show, create, update (SKU rename included), delete.
public struct ItemService {
    let db: any Database
    let clock: Clock

    public init(db: any Database, clock: Clock = .system) {
        self.db = db
        self.clock = clock
    }

    public func list(accountID: Int64, page: Page) throws -> [Item] {
        try OffsetWindow.rows(db, Item.select + " WHERE i.account_id = ?", [accountID], orderedBy: "i.id", descending: false,
                              page: page, count: "SELECT COUNT(*) AS n FROM items i WHERE i.account_id = ?").map(Item.init(row:))
    }

    public func get(accountID: Int64, sku: String) throws -> Item {
        guard let row = try db.queryOne(Item.select + " WHERE i.account_id = ? AND i.sku = ?", [accountID, sku]) else {
            throw DomainError.notFound("Item \(sku) not found")
        }
        return Item(row: row)
    }

    public func get(guid: String) throws -> Item? {
        try db.queryOne(Item.select + " WHERE i.guid = ?", [guid]).map(Item.init(row:))
    }

    public func create(accountID: Int64, _ input: ItemInput) throws -> Item {
        guard let sku = input.sku, !sku.isEmpty else { throw DomainError.unprocessable("SKU is required") }
        try ItemService.validate(sku: sku, input)
        return try db.write {
            let uploadID = try resolveFile(accountID: accountID, input)
            do {
                let now = clock.now()
                try db.execute("""
                    INSERT INTO items (account_id, sku, name, price, guid, upload_id, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [accountID, sku, input.name ?? "", input.price ?? 0, Digest.randomToken(length: 24), uploadID, now, now])
            } catch let error as any DatabaseError where error.isConstraintViolation {
                throw DomainError.unprocessable("SKU \(sku) is already taken")
            }
            return try get(accountID: accountID, sku: sku)
        }
    }

    /// Updates the fields given; a new `sku` renames the item (422 if taken).
    public func update(accountID: Int64, sku: String, _ input: ItemInput) throws -> Item {
        let newSKU = input.sku
        try ItemService.validate(sku: (newSKU?.isEmpty ?? true) ? nil : newSKU, input)
        return try db.write {
            let current = try get(accountID: accountID, sku: sku)
            let uploadID = try resolveFile(accountID: accountID, input) ?? current.file?.id
            let finalSKU = (newSKU?.isEmpty ?? true) ? current.sku : newSKU!
            do {
                try db.execute("""
                    UPDATE items SET sku = ?, name = ?, price = ?, upload_id = ?, updated_at = ? WHERE id = ?
                    """, [finalSKU, input.name ?? current.name, input.price ?? current.price, uploadID, clock.now(), current.id])
            } catch let error as any DatabaseError where error.isConstraintViolation {
                throw DomainError.unprocessable("SKU \(finalSKU) is already taken")
            }
            return try get(accountID: accountID, sku: finalSKU)
        }
    }

    /// Deletes the item. Its download log stays (with the SKU it had). Orders that list it lose it.
    public func delete(accountID: Int64, sku: String) throws {
        try db.write {
            let item = try get(accountID: accountID, sku: sku)
            try db.execute("DELETE FROM items WHERE id = ?", [item.id])
        }
    }

    /// The upload named by id or filename; nil when the input names none. Unknown → 422.
    private func resolveFile(accountID: Int64, _ input: ItemInput) throws -> Int64? {
        if let id = input.uploadID {
            guard try db.queryOne("SELECT id FROM uploads WHERE account_id = ? AND id = ?", [accountID, id]) != nil else {
                throw DomainError.unprocessable("upload \(id) not found")
            }
            return id
        }
        if let name = input.filename, !name.isEmpty {
            guard let row = try db.queryOne("""
                SELECT id FROM uploads WHERE account_id = ? AND filename = ? ORDER BY id DESC LIMIT 1
                """, [accountID, name]) else {
                throw DomainError.unprocessable("no upload named \(name)")
            }
            return row.int("id")
        }
        return nil
    }

    /// Command words of `/api/items/…`: an item with such a SKU could not be shown by URL.
    static let reservedSKUs: Set<String> = ["create"]

    /// `sku`: a new SKU (create or rename); nil keeps the current one.
    static func validate(sku: String?, _ input: ItemInput) throws {
        if let sku { try FieldRules.identifier(sku, field: "SKU", reserved: reservedSKUs) }
        try FieldRules.text(input.name, field: "name", maxBytes: FieldRules.maxNameBytes)
        try FieldRules.number(input.price, field: "price", in: FieldRules.price)
        try FieldRules.text(input.filename, field: "filename", maxBytes: FieldRules.maxFilenameBytes)
    }
}
