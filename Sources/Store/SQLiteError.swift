/// An error reported by SQLite, with its result code and message.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String

    public var description: String { "SQLite error \(code): \(message)" }

    /// SQLITE_CONSTRAINT and its extended codes: a unique or foreign key was violated.
    public var isConstraintViolation: Bool { code & 0xff == 19 }
    /// SQLITE_BUSY / SQLITE_LOCKED.
    public var isBusy: Bool { code & 0xff == 5 || code & 0xff == 6 }
}

/// What the domain layer may ask of any backend's errors.
public protocol DatabaseError: Error {
    /// A unique, check or foreign-key constraint refused the write.
    var isConstraintViolation: Bool { get }
    /// Another process held the database past the busy timeout: nothing was done, and the
    /// same request may succeed a moment later.
    var isBusy: Bool { get }
}

extension SQLiteError: DatabaseError {}
