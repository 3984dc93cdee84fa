import Store

/// Where to read rows `offset ..< offset + limit` of a list in a given order. `OFFSET n` costs
/// O(n) on both engines (every skipped row is stepped over), so a page past the middle of a list
/// whose length is known is read from the other end instead: the opposite order, `OFFSET total -
/// (offset + limit)`, the rows then reversed. The last pages then cost what the first ones do, and
/// the middle page is the dearest (half the list stepped over, whichever end).
struct OffsetWindow: Equatable {
    var limit: Int
    var offset: Int
    /// Read in the opposite order (and reverse the rows).
    var fromOtherEnd: Bool

    /// `total`: how many rows the whole list holds, counted in the same snapshot as the rows are
    /// read (nil when unknown: always read from the list's own end).
    init(offset: Int, limit: Int, total: Int64?) {
        let offset = max(0, offset), limit = max(0, limit)
        guard let total, offset > 0 else {
            self.init(limit: limit, offset: offset, fromOtherEnd: false)
            return
        }
        let length = Int(clamping: total)
        let end = min(length, offset.addingReportingOverflow(limit).overflow ? Int.max : offset + limit)
        if offset >= length {
            self.init(limit: 0, offset: 0, fromOtherEnd: false) // past the end: nothing to read
        } else if length - end < offset {
            self.init(limit: end - offset, offset: length - end, fromOtherEnd: true)
        } else {
            self.init(limit: limit, offset: offset, fromOtherEnd: false)
        }
    }

    init(limit: Int, offset: Int, fromOtherEnd: Bool) {
        self.limit = limit
        self.offset = offset
        self.fromOtherEnd = fromOtherEnd
    }

    /// Lists without a total of their own count their rows only from this offset on: below it,
    /// stepping over the rows costs less than counting a long list would.
    static let countFrom = 5_000

    /// The rows of `query` (a SELECT up to and including its WHERE clause) ordered by `key` (a
    /// unique column, `descending` as the list runs), `limit` of them from `offset`, read from the
    /// nearer end. `total` is asked only for a page that does not start at the top.
    static func rows(_ db: any Database, _ query: String, _ arguments: [any SQLBindable], orderedBy key: String,
                     descending: Bool, limit: Int, offset: Int, total: () throws -> Int64?) throws -> [Row] {
        let window = OffsetWindow(offset: offset, limit: limit, total: offset > 0 ? try total() : nil)
        if window.limit == 0 { return [] }
        let order = descending != window.fromOtherEnd ? "DESC" : "ASC"
        let rows = try db.query(query + " ORDER BY \(key) \(order) LIMIT ? OFFSET ?", arguments + [window.limit, window.offset])
        return window.fromOtherEnd ? rows.reversed() : rows
    }

    /// `rows` for a list with no total of its own: `count` (a `SELECT COUNT(*) AS n …` of exactly the
    /// listed rows) runs only for a page from `countFrom` on.
    static func rows(_ db: any Database, _ query: String, _ arguments: [any SQLBindable], orderedBy key: String,
                     descending: Bool, page: Page, count: String) throws -> [Row] {
        try rows(db, query, arguments, orderedBy: key, descending: descending, limit: page.limit, offset: page.offset) {
            page.offset >= countFrom ? try db.queryOne(count, arguments)?.int("n") ?? 0 : nil
        }
    }
}

extension Listing {
    /// One page of `SELECT <columns> FROM <table> WHERE <filter>`, newest (highest `id`) first: with
    /// `page.after` the rows below that cursor's row (an index range, whatever the depth), else from
    /// `page.offset` (past the middle, read from the oldest end: `OffsetWindow`). One row more than
    /// the page is read to tell whether more follow; `total` counts the whole list (exactly the rows
    /// `filter` selects: it places the window); `rowID` names an item's row for the next page's cursor.
    static func newestFirst(_ db: any Database, columns: String, from table: String, where filter: String,
                            _ arguments: [any SQLBindable], page: Page, items: ([Row]) -> [Item],
                            rowID: (Item) -> Int64, total: () throws -> Int64) throws -> Listing<Item> {
        let rows: [Row]
        var counted: Int64?
        if let after = page.after {
            rows = try db.query("SELECT \(columns) FROM \(table) WHERE \(filter) AND id < ? ORDER BY id DESC LIMIT ?",
                                arguments + [try Page.rowID(cursor: after), page.limit + 1])
        } else {
            rows = try OffsetWindow.rows(db, "SELECT \(columns) FROM \(table) WHERE \(filter)", arguments, orderedBy: "id",
                                         descending: true, limit: page.limit + 1, offset: page.offset) {
                counted = try total()
                return counted
            }
        }
        var found = items(rows)
        let hasMore = found.count > page.limit
        if hasMore { found.removeLast() }
        return Listing(items: found, total: try counted ?? total(), hasMore: hasMore,
                       nextCursor: hasMore ? found.last.map { Page.cursor(rowID: rowID($0)) } : nil)
    }
}
