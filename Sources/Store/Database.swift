/// The storage interface the domain layer talks to. SQLite implements it now;
/// a PostgreSQL implementation can follow behind the same protocol.
///
/// A `Database` value is one connection and is used by one thread at a time.
public protocol Database: AnyObject {
    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int
    /// Runs a query and returns every row.
    func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [Row]
    /// Runs `body` in one transaction. `immediate` takes the write lock up front
    /// (`BEGIN IMMEDIATE`) for read-modify-write. Nested calls become savepoints.
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T
    /// Runs `body` as one unit of work that the caller completes: the first top-level write
    /// transaction `body` opens stays open when it ends, and its later writes join it. `begin`
    /// runs first inside that transaction (it may throw to refuse the write); after `body`
    /// returns, `end` runs in it with the result, and then it commits. If `body` opened no write
    /// transaction, one is opened for `begin` and `end`. Any error rolls everything back.
    func holdingWrite<T>(begin: () throws -> Void, _ body: () throws -> T, end: (T) throws -> Void) throws -> T
    /// Row id of the last inserted row on this connection.
    var lastInsertRowID: Int64 { get }
    /// Runs a script of several statements (migrations).
    func executeScript(_ sql: String) throws
}

extension Database {
    public func queryOne(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Row? {
        try query(sql, arguments).first
    }

    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    public func query(_ sql: String) throws -> [Row] { try query(sql, []) }

    public func write<T>(_ body: () throws -> T) throws -> T { try transaction(immediate: true, body) }

    /// Runs `body` in one read transaction — one snapshot for all its queries, one lock
    /// round trip instead of one per query — when `condition` holds; else runs it as it is.
    /// Writes inside a snapshot are refused (a read transaction cannot safely become a write).
    public func snapshot<T>(if condition: Bool, _ body: () throws -> T) throws -> T {
        condition ? try transaction(immediate: false, body) : try body()
    }
}
