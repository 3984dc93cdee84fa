/// The storage interface the domain layer talks to, implemented by SQLite and PostgreSQL.
/// `Databases.open(url:)` makes one; nothing above this module names an engine.
///
/// A `Database` value is one connection and is used by one thread at a time.
///
/// Statements are written in the SQL both engines speak, with one placeholder style: a bare
/// `?` per argument, in order. The driver renders it for its engine (SQLite takes `?` as it
/// is and refuses any other style; PostgreSQL numbers them `$1`, `$2`, …). Booleans are bound
/// as `Bool` or written `TRUE`/`FALSE`, never as 1 and 0; a new row's id comes back from
/// `INSERT … RETURNING id` (`insert`). Transactions are the driver's: `write` takes the write
/// lock up front (SQLite: `BEGIN IMMEDIATE`).
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
    /// Runs a script of several statements (migrations).
    func executeScript(_ sql: String) throws
    /// Runs `body` holding the engine's migration lock, so that processes migrating one database
    /// at once apply each migration once (SQLite: no lock beyond each migration's write
    /// transaction; PostgreSQL: an advisory lock).
    func withMigrationLock<T>(_ body: () throws -> T) throws -> T
    /// A migration's SQL (written in SQLite's DDL) for this engine (SQLite: as it is).
    func schemaSQL(_ sql: String) -> String
    /// After rows were inserted with explicit ids (a copy between databases): the next id the
    /// engine makes for `table.column` is past the largest there. SQLite does this by itself;
    /// PostgreSQL moves the identity sequence. A column with no identity is left alone.
    func advanceIdentity(table: String, column: String) throws
    /// A clause that makes a `SELECT` lock the rows it returns and pass over rows another
    /// transaction holds locked, so that several connections picking work from one table (a
    /// queue claim) never wait on each other nor take the same row: PostgreSQL's
    /// `FOR NO KEY UPDATE SKIP LOCKED`; empty on SQLite, whose writes run one at a time anyway.
    var rowLockSkippingLocked: String { get }
    /// Runs `body` as a write guarded by the row locks its statements take, not by the engine's
    /// serializability checks: each statement sees every write committed before it started, and a
    /// row it locks that changed meanwhile is checked against its conditions again (PostgreSQL:
    /// READ COMMITTED). Meant for a statement that picks its rows with `rowLockSkippingLocked` and
    /// changes only those: run as a serializable `write`, concurrent pickers would fail each other.
    /// `exclusive`: such writes also run one at a time across every connection, so that one that
    /// reads rows it does not lock (a count of running jobs) sees every earlier one committed.
    /// SQLite: `write`. Inside a transaction, it joins that one (a savepoint).
    func rowLockedWrite<T>(exclusive: Bool, _ body: () throws -> T) throws -> T
}

extension Database {
    public func withMigrationLock<T>(_ body: () throws -> T) throws -> T { try body() }

    public func schemaSQL(_ sql: String) -> String { sql }

    public func advanceIdentity(table: String, column: String) throws {}

    public var rowLockSkippingLocked: String { "" }

    public func rowLockedWrite<T>(exclusive: Bool, _ body: () throws -> T) throws -> T { try write(body) }

    public func queryOne(_ sql: String, _ arguments: [any SQLBindable] = []) throws -> Row? {
        try query(sql, arguments).first
    }

    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }

    public func query(_ sql: String) throws -> [Row] { try query(sql, []) }

    /// Runs an `INSERT … RETURNING id` and returns the new row's id.
    public func insert(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int64 {
        guard let id = try queryOne(sql, arguments)?.int("id") else {
            throw DatabaseUsageError(message: "an insert returned no id (RETURNING id is missing): \(sql)")
        }
        return id
    }

    public func write<T>(_ body: () throws -> T) throws -> T { try transaction(immediate: true, body) }

    /// Runs `body` in one read transaction — one snapshot for all its queries, one lock
    /// round trip instead of one per query — when `condition` holds; else runs it as it is.
    /// Writes inside a snapshot are refused (a read transaction cannot safely become a write).
    public func snapshot<T>(if condition: Bool, _ body: () throws -> T) throws -> T {
        condition ? try transaction(immediate: false, body) : try body()
    }
}
