import CPostgres
import Formats
#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL connection (libpq), behind the same `Database` protocol as SQLite.
/// Not thread-safe by design: each server thread opens its own.
///
/// - Statements: `?` placeholders are numbered `$1…$n`, each statement is prepared once per
///   connection (a bounded cache by SQL text), parameters go as text (blobs as binary), and
///   results are read by column type: integers → `.integer`, float/numeric → `.real`, boolean →
///   `.integer` 0/1, bytea → `.blob`, everything else → `.text`, NULL → `.null`.
/// - Transactions: a top-level `transaction(immediate: true)` (so `write`) is
///   `BEGIN ISOLATION LEVEL SERIALIZABLE`: writers behave as if they ran one at a time, like
///   SQLite's single writer. When PostgreSQL refuses one with serialization_failure (40001) or
///   deadlock_detected (40P01) the whole body runs again, up to `writeAttempts` times with a
///   short jittered pause, so **write bodies must be re-runnable: database work only**.
///   A re-run runs alone: it holds the advisory lock `loneWriteLockKey` exclusively around its
///   transaction, and every first run begins by taking it shared (`pg_try_advisory_xact_lock_shared`,
///   polled while a re-run holds or awaits it). Without this, writers contending for the same rows
///   (orders numbered per account, one item's counters) refused each other until some ran out of
///   attempts. Both waits are bounded (`loneWriteWait`); past it the write goes ahead unguarded.
///   A read transaction (`snapshot`) is `REPEATABLE READ READ ONLY`: one snapshot for all its
///   queries, and a write inside it is refused. Nested transactions are savepoints.
/// - `rowLockedWrite` (queue claims) is `READ COMMITTED`, guarded by the `FOR NO KEY UPDATE
///   SKIP LOCKED` row locks its statement takes: serializable claims fail each other under
///   concurrency (measured: with 8 claimers 40 % of claim-and-complete cycles still failed after 5
///   attempts), these never do.
/// - `holdingWrite` units are serialized across every connection of the database by a session
///   advisory lock taken before their transaction begins (so a unit's first look sees every
///   unit committed before it, as under SQLite's write lock); they are not re-run.
/// - Connection: `statement_timeout` (a query parameter of the URL, in PostgreSQL's syntax such
///   as `5000` ms or `5s`; default 30 s) is set at connect. A connection found broken at the start of a
///   call outside a transaction is reset once; if that fails the call throws a busy error.
public final class PostgresDatabase: Database {
    private let connection: OpaquePointer
    private let statementTimeout: String
    private var statements: [String: Prepared] = [:]
    private var statementOrder: [String] = []
    private var statementCounter = 0
    private var depth = 0
    private var readOnly = false
    /// Set when a statement of the running transaction met 40001 or 40P01.
    private var conflicted = false
    /// Whether a statement of the running write broke a unique constraint (23505).
    private var duplicated = false

    /// Prepared statements kept per connection; the oldest is deallocated past this.
    public static let statementCacheSize = 256
    /// How many times a top-level write transaction runs at most.
    public static let writeAttempts = 5
    /// The advisory lock key around a migration run (`withMigrationLock`).
    public static let migrationLockKey: Int64 = 0x6667_6d69_6772_6174
    /// The advisory lock key serializing `holdingWrite` units.
    public static let holdingWriteLockKey: Int64 = 0x6667_686f_6c64_7772
    /// The advisory lock a re-run write holds exclusively and a first run takes shared.
    public static let loneWriteLockKey: Int64 = 0x6667_6c6f_6e65_7772
    /// How long a write waits for `loneWriteLockKey` (milliseconds) before it goes ahead without it.
    public static let loneWriteWait = 500

    private final class Prepared {
        let name: String
        let parameterCount: Int
        var columns: Columns?
        init(name: String, parameterCount: Int) {
            self.name = name
            self.parameterCount = parameterCount
        }
    }

    /// Connects to `url` (`postgresql://user:pass@host:port/db?…`, libpq's URI syntax; the
    /// extra query parameter `statement_timeout` is this driver's).
    public init(url: String) throws {
        let (conninfo, timeout) = PostgresDatabase.splitStatementTimeout(url)
        statementTimeout = timeout ?? "30s"
        guard let connection = PQconnectdb(conninfo) else {
            throw PostgresError(sqlstate: "08001", message: "out of memory opening a PostgreSQL connection")
        }
        // Checked before `self` is whole: a class whose init throws once every stored property is set
        // runs its deinit, which finishes the connection (so a second PQfinish here would free it twice).
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(sqlstate: "08001", message: "cannot connect to PostgreSQL: \(message)")
        }
        self.connection = connection
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        try setUp()
    }

    deinit { PQfinish(connection) }

    private func setUp() throws {
        let timeout = statementTimeout.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''")
        try executeScript("SET client_encoding = 'UTF8'; SET statement_timeout = '\(timeout)'")
    }

    /// The URL without this driver's `statement_timeout` query parameter, and that parameter's value.
    static func splitStatementTimeout(_ url: String) -> (url: String, timeout: String?) {
        guard let question = url.firstIndex(of: "?") else { return (url, nil) }
        var timeout: String?
        var kept: [Substring] = []
        for pair in url[url.index(after: question)...].split(separator: "&") {
            if pair.hasPrefix("statement_timeout=") {
                timeout = PercentEncoding.decode(pair.dropFirst("statement_timeout=".count))
            } else {
                kept.append(pair)
            }
        }
        let base = String(url[..<question])
        return (kept.isEmpty ? base : base + "?" + kept.joined(separator: "&"), timeout)
    }

    // MARK: Statements

    private func prepare(_ sql: String) throws -> Prepared {
        if let cached = statements[sql] { return cached }
        let (rendered, count) = PostgresSQL.renderPlaceholders(sql)
        if statements.count >= PostgresDatabase.statementCacheSize, !statementOrder.isEmpty {
            let oldest = statementOrder.removeFirst()
            if let evicted = statements.removeValue(forKey: oldest), PQtransactionStatus(connection) != PQTRANS_INERROR {
                // Best effort: a statement left behind only costs server memory until reconnect.
                PQclear(PQexec(connection, "DEALLOCATE \(evicted.name)"))
            }
        }
        statementCounter += 1
        let prepared = Prepared(name: "fg\(statementCounter)", parameterCount: count)
        let result = PQprepare(connection, prepared.name, rendered, 0, nil)
        defer { PQclear(result) }
        try check(result)
        statements[sql] = prepared
        statementOrder.append(sql)
        return prepared
    }

    /// Runs a prepared statement with `arguments`; the caller clears the result.
    private func run(_ sql: String, _ arguments: [any SQLBindable]) throws -> (OpaquePointer, Prepared) {
        try ensureConnected()
        let prepared = try prepare(sql)
        guard arguments.count == prepared.parameterCount else {
            throw DatabaseUsageError(message: "\(arguments.count) arguments for \(prepared.parameterCount) placeholders in \(sql)")
        }
        var values: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        values.reserveCapacity(arguments.count)
        defer { for value in values { free(value) } }
        for argument in arguments {
            switch argument.sqlValue {
            case .null: values.append(nil); lengths.append(0); formats.append(0)
            case .integer(let v): values.append(strdup(String(v))); lengths.append(0); formats.append(0)
            // 1 and 0 read as a boolean and as a number, whichever the column is.
            case .bool(let v): values.append(strdup(v ? "1" : "0")); lengths.append(0); formats.append(0)
            case .real(let v): values.append(strdup(PostgresDatabase.text(of: v))); lengths.append(0); formats.append(0)
            case .text(let s):
                guard !s.utf8.contains(0) else {
                    throw PostgresError(sqlstate: "22021", message: "a text argument contains a NUL byte, which PostgreSQL cannot store")
                }
                values.append(strdup(s)); lengths.append(0); formats.append(0)
            case .blob(let b):
                let buffer = malloc(max(b.count, 1))!
                b.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: b.count) } }
                values.append(buffer.assumingMemoryBound(to: CChar.self)); lengths.append(Int32(b.count)); formats.append(1)
            }
        }
        let result: OpaquePointer? = values.withUnsafeBufferPointer { valuePointers in
            valuePointers.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constValues in
                PQexecPrepared(connection, prepared.name, Int32(arguments.count), constValues.baseAddress,
                               lengths, formats, 0)
            }
        }
        do {
            try check(result)
        } catch {
            PQclear(result)
            throw error
        }
        return (result!, prepared)
    }

    private static func text(of value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return String(value)
    }

    @discardableResult
    public func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
        let (result, _) = try run(sql, arguments)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [Row] {
        let (result, prepared) = try run(sql, arguments)
        defer { PQclear(result) }
        let fields = PQnfields(result)
        let columns: Columns
        if let cached = prepared.columns {
            columns = cached
        } else {
            columns = Columns((0..<fields).map { String(cString: PQfname(result, $0)) })
            prepared.columns = columns
        }
        let types = (0..<fields).map { PQftype(result, $0) }
        let count = PQntuples(result)
        var rows: [Row] = []
        rows.reserveCapacity(Int(count))
        for r in 0..<count {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(fields))
            for f in 0..<fields {
                if PQgetisnull(result, r, f) != 0 {
                    values.append(.null)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, f), count: Int(PQgetlength(result, r, f)))
                values.append(PostgresDatabase.decode(bytes, type: types[Int(f)]))
            }
            rows.append(Row(columns: columns, values: values))
        }
        return rows
    }

    /// One value in PostgreSQL's text output format, by its column's type OID.
    static func decode(_ bytes: UnsafeRawBufferPointer, type: Oid) -> SQLValue {
        let text = String(decoding: bytes, as: UTF8.self)
        switch type {
        case 20, 21, 23, 26: // int8, int2, int4, oid
            return Int64(text).map(SQLValue.integer) ?? .text(text)
        case 700, 701, 1700: // float4, float8, numeric
            switch text {
            case "NaN": return .real(.nan)
            case "Infinity": return .real(.infinity)
            case "-Infinity": return .real(-.infinity)
            default: return Double(text).map(SQLValue.real) ?? .text(text)
            }
        case 16: // bool
            return .integer(text == "t" ? 1 : 0)
        case 17: // bytea, hex output: \x0a1b…
            return .blob(decodeHex(bytes.dropFirst(2)))
        default:
            return .text(text)
        }
    }

    public func executeScript(_ sql: String) throws {
        try ensureConnected()
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result)
    }

    private func check(_ result: OpaquePointer?) throws {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        var sqlstate = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        var message = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
            ?? String(cString: PQerrorMessage(connection))
        if PQstatus(connection) != CONNECTION_OK {
            sqlstate = PostgresError.connectionLost
            message = "the connection to PostgreSQL was lost: \(message)"
        }
        if sqlstate == "40001" || sqlstate == "40P01" { conflicted = true }
        if sqlstate == "23505" { duplicated = true }
        throw PostgresError(sqlstate: sqlstate, message: message.trimmingSuffix("\n"))
    }

    /// Outside a transaction: a connection the server has closed (restart, idle kill) is reset
    /// once before it is used; if that fails, the call is refused as busy.
    private func ensureConnected() throws {
        guard depth == 0 else { return }
        // An idle connection has nothing to read unless the server said something, such as the
        // FATAL of a shutdown followed by end of file: read it all, which marks a closed connection bad.
        var socket = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        for _ in 0..<4 where PQstatus(connection) == CONNECTION_OK && poll(&socket, 1, 0) > 0 {
            if PQconsumeInput(connection) == 0 { break }
        }
        guard PQstatus(connection) != CONNECTION_OK else { return }
        PQreset(connection)
        statements.removeAll()
        statementOrder.removeAll()
        readOnly = false
        guard PQstatus(connection) == CONNECTION_OK else {
            throw PostgresError(sqlstate: PostgresError.connectionLost,
                                message: "the PostgreSQL connection is broken and could not be reset: \(String(cString: PQerrorMessage(connection)))")
        }
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        try setUp()
    }

    // MARK: Transactions

    public func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try transaction(immediate ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                        immediate: immediate, serializable: immediate, body)
    }

    /// `FOR NO KEY UPDATE`: the lock an `UPDATE` that leaves the key alone takes anyway, so a
    /// picked row is not passed over by a foreign key check of a row that references it.
    public var rowLockSkippingLocked: String { "FOR NO KEY UPDATE SKIP LOCKED" }

    /// The transaction advisory lock key of `rowLockedWrite(exclusive: true)`.
    public static let rowLockedWriteKey: Int64 = 0x6667_726f_776c_6f63

    /// READ COMMITTED; `exclusive` takes a transaction advisory lock (`rowLockedWriteKey`) first,
    /// so its statements' snapshots are taken after the previous holder committed.
    public func rowLockedWrite<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL READ COMMITTED", immediate: true, serializable: false) {
            if exclusive { _ = try query("SELECT pg_advisory_xact_lock(?)", [PostgresDatabase.rowLockedWriteKey]) }
            return try body()
        }
    }

    /// A transaction begun by `begin` (a write when `immediate`, re-run on a conflict), or a
    /// savepoint inside the running one. A `serializable` write shares the lone-write lock on its
    /// first run and holds it alone on a re-run (see the type's comment); a row-locked one needs neither.
    private func transaction<T>(_ begin: String, immediate: Bool, serializable: Bool, _ body: () throws -> T) throws -> T {
        if depth == 0, immediate, let held, !held.open { try open(held) }
        if depth > 0 {
            if immediate && readOnly {
                throw DatabaseUsageError(message: "write transaction inside a read snapshot")
            }
            return try savepoint(body)
        }
        var attempt = 1
        var reranForDuplicate = false
        while true {
            try ensureConnected()
            conflicted = false
            duplicated = false
            let alone = serializable && attempt > 1 && lockAlone()
            defer { if alone { advisoryUnlock(PostgresDatabase.loneWriteLockKey) } }
            if serializable && !alone {
                try beginSharingWrites(begin)
            } else {
                try executeScript(begin)
            }
            depth = 1
            readOnly = !immediate
            do {
                let result = try body()
                depth = 0
                readOnly = false
                try commitOrRollBack()
                return result
            } catch {
                depth = 0
                readOnly = false
                rollBack()
                // A unique key broken in a serializable write may be a race PostgreSQL reports as
                // 23505, not 40001 (a number the write computed from a read through another index, taken
                // by a concurrent write meanwhile): it runs once more, alone, and a second one is the data's.
                let duplicateRace = serializable && duplicated && !conflicted && !reranForDuplicate
                if duplicateRace { reranForDuplicate = true }
                if immediate && (conflicted || duplicateRace) && attempt < PostgresDatabase.writeAttempts {
                    // 1, 2, 4, 8 ms and up to as much again, so two retrying writers drift apart.
                    let base = 1_000 << (attempt - 1)
                    usleep(useconds_t(base + Int.random(in: 0...base)))
                    attempt += 1
                    continue
                }
                throw error
            }
        }
    }

    /// Takes `loneWriteLockKey` exclusively for a re-run, waiting at most `loneWriteWait` for the
    /// writes that hold it shared; false if it could not (the re-run then goes ahead unguarded).
    private func lockAlone() -> Bool {
        let result = PQexec(connection, "SET lock_timeout = \(PostgresDatabase.loneWriteWait); "
                            + "SELECT pg_advisory_lock(\(PostgresDatabase.loneWriteLockKey)); RESET lock_timeout")
        defer { PQclear(result) }
        return (try? check(result)) != nil
    }

    /// BEGIN of a first run: SERIALIZABLE, with `loneWriteLockKey` taken shared as its first
    /// statement (so its snapshot is never older than a re-run that held the lock), polled every
    /// millisecond or so for up to `loneWriteWait`, then begun without it.
    private func beginSharingWrites(_ begin: String) throws {
        var waited = 0
        while waited < PostgresDatabase.loneWriteWait {
            let result = PQexec(connection, begin + "; SELECT pg_try_advisory_xact_lock_shared(\(PostgresDatabase.loneWriteLockKey)) AS shared")
            defer { PQclear(result) }
            do { try check(result) } catch { rollBack(); throw error }
            if PQntuples(result) == 1, String(cString: PQgetvalue(result, 0, 0)) == "t" { return }
            rollBack()
            usleep(useconds_t(1_000 + Int.random(in: 0...1_000)))
            waited += 2
        }
        try executeScript(begin)
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        let name = "sp\(depth)"
        try executeScript("SAVEPOINT \(name)")
        depth += 1
        do {
            let result = try body()
            depth -= 1
            try executeScript("RELEASE \(name)")
            return result
        } catch {
            depth -= 1
            _ = try? executeScript("ROLLBACK TO \(name)")
            _ = try? executeScript("RELEASE \(name)")
            throw error
        }
    }

    private func commitOrRollBack() throws {
        // COMMIT of a transaction a failed statement aborted rolls it back and reports success:
        // that must not pass for a commit (a statement whose error the body swallowed).
        if PQtransactionStatus(connection) == PQTRANS_INERROR {
            rollBack()
            throw PostgresError(sqlstate: "25P02", message: "a statement failed inside the transaction, which PostgreSQL then aborted: nothing was committed")
        }
        do {
            try executeScript("COMMIT")
        } catch {
            rollBack()
            throw error
        }
    }

    private func rollBack() {
        if PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) != PQTRANS_IDLE {
            PQclear(PQexec(connection, "ROLLBACK"))
        }
    }

    private var held: HeldWrite?
    /// Whether this connection holds the advisory lock of `holdingWrite` units.
    private var holdsUnitLock = false

    public func holdingWrite<T>(begin: () throws -> Void, _ body: () throws -> T, end: (T) throws -> Void) throws -> T {
        guard depth == 0, held == nil else {
            throw DatabaseUsageError(message: "holdingWrite inside a transaction")
        }
        return try HeldWrite.run(begin: begin, body, end: end, hold: { unit in
            held = unit
            if unit == nil { unlockUnits() }
        }, open: open, abandon: abandon, commit: { unit in
            unit.open = false
            depth = 0
            try commitOrRollBack()
        })
    }

    private func open(_ unit: HeldWrite) throws {
        try ensureConnected()
        // Before BEGIN, so that the transaction's snapshot is taken after the lock is held.
        _ = try query("SELECT pg_advisory_lock(?)", [PostgresDatabase.holdingWriteLockKey])
        holdsUnitLock = true
        conflicted = false
        try executeScript("BEGIN ISOLATION LEVEL SERIALIZABLE")
        depth = 1
        try unit.begun(abandon: abandon)
    }

    private func abandon(_ unit: HeldWrite) {
        guard unit.open else { return }
        unit.open = false
        depth = 0
        rollBack()
    }

    private func unlockUnits() {
        guard holdsUnitLock else { return }
        holdsUnitLock = false
        advisoryUnlock(PostgresDatabase.holdingWriteLockKey)
    }

    private func advisoryUnlock(_ key: Int64) {
        if PQstatus(connection) == CONNECTION_OK {
            PQclear(PQexec(connection, "SELECT pg_advisory_unlock(\(key))"))
        }
    }

    // MARK: Migrations

    public func withMigrationLock<T>(_ body: () throws -> T) throws -> T {
        _ = try query("SELECT pg_advisory_lock(?)", [PostgresDatabase.migrationLockKey])
        defer { _ = try? query("SELECT pg_advisory_unlock(?)", [PostgresDatabase.migrationLockKey]) }
        return try body()
    }

    public func schemaSQL(_ sql: String) -> String { PostgresSQL.translateSchema(sql) }

    public func advanceIdentity(table: String, column: String) throws {
        func quoted(_ name: String) -> String { "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" }
        guard let sequence = try queryOne("SELECT pg_get_serial_sequence(?, ?) AS s", [quoted(table), column])?.string("s") else { return }
        _ = try query("SELECT setval(CAST(? AS regclass), COALESCE(MAX(\(quoted(column))), 0) + 1, false) FROM \(quoted(table))", [sequence])
    }
}

/// An error reported by PostgreSQL (or by this driver about its connection), with its SQLSTATE.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public let sqlstate: String
    public let message: String

    public init(sqlstate: String, message: String) {
        self.sqlstate = sqlstate
        self.message = message
    }

    /// The SQLSTATE this driver reports for a connection that broke (connection_failure).
    public static let connectionLost = "08006"

    public var description: String { "PostgreSQL error \(sqlstate): \(message)" }
}

extension PostgresError: DatabaseError {
    /// Class 23: integrity_constraint_violation (unique, foreign key, check, not null).
    public var isConstraintViolation: Bool { sqlstate.hasPrefix("23") }

    /// Nothing was done and the same request may succeed a moment later: a serialization failure
    /// or deadlock still there after the retries, a lock not available, a statement timeout, a
    /// lost or refused connection (class 08), the server shutting down, too many connections.
    public var isBusy: Bool {
        ["40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53300"].contains(sqlstate) || sqlstate.hasPrefix("08")
    }
}

private extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var s = self
        while s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        return s
    }
}

/// Bytes from pairs of hex digits (bytea's hex output after `\x`).
private func decodeHex(_ digits: some Collection<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var high: UInt8?
    for c in digits {
        guard let v = Hex.value(c) else { break }
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    return out
}
