import Store

extension Listing {
    /// One page of `SELECT <columns> FROM <table> WHERE <filter>`, newest (highest `id`) first: with
    /// `page.after` the rows below that cursor's row (an index range, whatever the depth), else from
    /// `page.offset`. One row more than the page is read to tell whether more follow; `total` counts
    /// the whole list; `rowID` names an item's row for the next page's cursor.
    static func newestFirst(_ db: any Database, columns: String, from table: String, where filter: String,
                            _ arguments: [any SQLBindable], page: Page, items: ([Row]) -> [Item],
                            rowID: (Item) -> Int64, total: () throws -> Int64) throws -> Listing<Item> {
        let rows: [Row]
        if let after = page.after {
            rows = try db.query("SELECT \(columns) FROM \(table) WHERE \(filter) AND id < ? ORDER BY id DESC LIMIT ?",
                                arguments + [try Page.rowID(cursor: after), page.limit + 1])
        } else {
            rows = try db.query("SELECT \(columns) FROM \(table) WHERE \(filter) ORDER BY id DESC LIMIT ? OFFSET ?",
                                arguments + [page.limit + 1, page.offset])
        }
        var found = items(rows)
        let hasMore = found.count > page.limit
        if hasMore { found.removeLast() }
        return Listing(items: found, total: try total(), hasMore: hasMore,
                       nextCursor: hasMore ? found.last.map { Page.cursor(rowID: rowID($0)) } : nil)
    }
}
