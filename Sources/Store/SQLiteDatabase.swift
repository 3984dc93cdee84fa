import CSQLite
#if canImport(Glibc)
import Glibc
#endif

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection: WAL, busy timeout, foreign keys, cached prepared statements.
/// Not thread-safe by design: each server thread opens its own.
public final class SQLiteDatabase: Database {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private var columns: [OpaquePointer: Columns] = [:]
    private var depth = 0
    public let path: String

    public init(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            sqlite3_close_v2(handle)
            handle = nil
            throw SQLiteError(code: rc, message: message)
        }
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(handle, 1)
        try executeScript("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = NORMAL;
            PRAGMA foreign_keys = ON;
            PRAGMA temp_store = MEMORY;
            PRAGMA mmap_size = 268435456;
            """)
    }

    deinit {
        for (_, statement) in statements { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    private func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text)
        }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        // The one placeholder style of `Database`: a bare `?` has no name; `?1`, `:a`, `@a`
        // and `$a` have one, and a PostgreSQL driver could not render them.
        for index in 0..<sqlite3_bind_parameter_count(statement) {
            if let name = sqlite3_bind_parameter_name(statement, index + 1) {
                sqlite3_finalize(statement)
                throw SQLiteError(code: SQLITE_MISUSE, message: "placeholder \(String(cString: name)) in \(sql): write ? instead")
            }
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ arguments: [any SQLBindable]) throws {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        // Fewer arguments than placeholders would bind NULL silently.
        guard arguments.count == Int(sqlite3_bind_parameter_count(statement)) else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(arguments.count) arguments for \(sqlite3_bind_parameter_count(statement)) placeholders")
        }
        for (i, argument) in arguments.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch argument.sqlValue {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .bool(let v): rc = sqlite3_bind_int64(statement, index, v ? 1 : 0)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let s):
                // Bound with its byte length: a NUL inside is stored, not a place to cut.
                var text = s
                rc = text.withUTF8 { bytes in
                    guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, SQLITE_TRANSIENT) }
                    return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        sqlite3_bind_text64(statement, index, $0, sqlite3_uint64(bytes.count), SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
            }
            guard rc == SQLITE_OK else { throw error(rc) }
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
        let statement = try prepare(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        var rc = sqlite3_step(statement)
        while rc == SQLITE_ROW { rc = sqlite3_step(statement) }
        guard rc == SQLITE_DONE else { throw error(rc) }
        return Int(sqlite3_changes(handle))
    }

    public func query(_ sql: String, _ arguments: [any SQLBindable]) throws -> [Row] {
        let statement = try prepare(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        let count = sqlite3_column_count(statement)
        let names: Columns
        if let cached = columns[statement] {
            names = cached
        } else {
            names = Columns((0..<count).map { String(cString: sqlite3_column_name(statement, $0)) })
            columns[statement] = names
        }
        var rows: [Row] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc) }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for i in 0..<count {
                switch sqlite3_column_type(statement, i) {
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, i)))
                case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, i)))
                case SQLITE_TEXT:
                    // Read with its byte length, like it was bound.
                    let text = sqlite3_column_text(statement, i)
                    let length = Int(sqlite3_column_bytes(statement, i))
                    values.append(.text(text.map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""))
                case SQLITE_BLOB:
                    let length = Int(sqlite3_column_bytes(statement, i))
                    if let pointer = sqlite3_column_blob(statement, i) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: length))))
                    } else {
                        values.append(.blob([]))
                    }
                default: values.append(.null)
                }
            }
            rows.append(Row(columns: names, values: values))
        }
        return rows
    }

    public func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        if depth == 0, immediate, let held, !held.open { try open(held) }
        let savepoint = "sp\(depth)"
        if depth > 0 && immediate && !holdsWriteLock {
            throw SQLiteError(code: SQLITE_MISUSE, message: "write transaction inside a read snapshot")
        }
        if depth == 0 {
            // Writers of this process queue on a mutex instead of meeting SQLITE_BUSY, whose
            // handler sleeps in milliseconds; other processes still meet the busy timeout.
            if immediate { SQLiteDatabase.writeLock.lock() }
            do {
                try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
            } catch {
                if immediate { SQLiteDatabase.writeLock.unlock() }
                throw error
            }
            holdsWriteLock = immediate
        } else {
            try execute("SAVEPOINT \(savepoint)")
        }
        depth += 1
        // The depth goes back down exactly once, whatever fails: a COMMIT refused at the end (a full
        // disk, a deferred constraint) once left it at -1, and every later transaction of the
        // connection failed ("SAVEPOINT sp-1") until the process restarted.
        let result: T
        do {
            result = try body()
        } catch {
            depth -= 1
            rollBack(savepoint)
            throw error
        }
        depth -= 1
        if depth == 0 {
            defer { releaseWriteLock() }
            try commitOrRollBack()
        } else {
            do {
                try execute("RELEASE \(savepoint)")
            } catch {
                rollBack(savepoint)
                throw error
            }
        }
        return result
    }

    /// Undoes the transaction (depth 0 after the decrement) or the savepoint of the level left.
    private func rollBack(_ savepoint: String) {
        if depth == 0 {
            _ = try? execute("ROLLBACK")
            releaseWriteLock()
        } else {
            _ = try? execute("ROLLBACK TO \(savepoint)")
            _ = try? execute("RELEASE \(savepoint)")
        }
    }

    private var held: HeldWrite?

    public func holdingWrite<T>(begin: () throws -> Void, _ body: () throws -> T, end: (T) throws -> Void) throws -> T {
        guard depth == 0, held == nil else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "holdingWrite inside a transaction")
        }
        return try HeldWrite.run(begin: begin, body, end: end, hold: { held = $0 }, open: open, abandon: abandon, commit: commit)
    }

    private func open(_ unit: HeldWrite) throws {
        SQLiteDatabase.writeLock.lock()
        do {
            try execute("BEGIN IMMEDIATE")
        } catch {
            SQLiteDatabase.writeLock.unlock()
            throw error
        }
        holdsWriteLock = true
        depth = 1
        try unit.begun(abandon: abandon)
    }

    private func commit(_ unit: HeldWrite) throws {
        guard unit.open else { return }
        unit.open = false
        depth = 0
        defer { releaseWriteLock() }
        try commitOrRollBack()
    }

    /// Commits the outermost transaction; a failed commit rolls it back.
    private func commitOrRollBack() throws {
        do {
            try execute("COMMIT")
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    private func abandon(_ unit: HeldWrite) {
        guard unit.open else { return }
        unit.open = false
        depth = 0
        _ = try? execute("ROLLBACK")
        releaseWriteLock()
    }

    private var holdsWriteLock = false

    private func releaseWriteLock() {
        if holdsWriteLock {
            holdsWriteLock = false
            SQLiteDatabase.writeLock.unlock()
        }
    }

    /// One per process: all connections of a process write to the same database file.
    private static let writeLock = WriteLock()
}

private final class WriteLock: @unchecked Sendable {
    // Heap-allocated: a pthread mutex must never move.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
