/// A window into a list: how many rows, from where. `after` (a keyset cursor, a previous page's
/// `nextCursor`) starts the window after that row instead of at `offset`, so a deep page costs
/// what the first one costs.
public struct Page: Equatable, Sendable {
    public var limit: Int
    public var offset: Int
    public var after: String?

    public init(limit: Int, offset: Int, after: String? = nil) {
        self.limit = max(0, limit)
        self.offset = max(0, offset)
        self.after = after
    }

    public static let all = Page(limit: Int(Int32.max), offset: 0)

    /// A cursor names the last row of a page by its row id; lists run newest (highest id) first.
    static func cursor(rowID: Int64) -> String { String(rowID) }

    /// The row id a cursor names, or a 400 for anything `cursor(rowID:)` did not write.
    static func rowID(cursor: String) throws -> Int64 {
        guard cursor.utf8.count <= 19, cursor.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let id = Int64(cursor), id > 0 else {
            throw DomainError.invalid("after must be a next_cursor value from an earlier page")
        }
        return id
    }
}

/// One page of a list, newest first: its rows, how many the whole list holds, whether more
/// follow and the cursor (`after`) of the next page (nil on the last one).
public struct Listing<Item> {
    public var items: [Item]
    public var total: Int64
    public var hasMore: Bool
    public var nextCursor: String?

    public init(items: [Item], total: Int64, hasMore: Bool, nextCursor: String?) {
        self.items = items
        self.total = total
        self.hasMore = hasMore
        self.nextCursor = nextCursor
    }
}

extension Listing: Sendable where Item: Sendable {}
extension Listing: Equatable where Item: Equatable {}
