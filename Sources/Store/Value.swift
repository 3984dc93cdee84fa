/// A value bound to or read from a SQL statement.
public enum SQLValue: Equatable, Sendable {
    case null
    case integer(Int64)
    /// A boolean: SQLite stores 1 or 0, PostgreSQL a `boolean`.
    case bool(Bool)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// Things that can be bound as statement parameters.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .bool(self) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// Column names of a result and their positions; made once per prepared statement and
/// shared by every row it returns.
public final class Columns: Sendable {
    public let names: [String]
    let positions: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (i, name) in names.enumerated() where positions[name] == nil { positions[name] = i }
        self.positions = positions
    }
}

/// Where named columns sit in one result: resolved once per statement's result (`Row.positions`),
/// then every row is read by index, with no name lookup per value. The hot paths (files, lists)
/// read this way; a name the query lacks fails at resolution, like `Row[name]`.
public struct ColumnPositions: Sendable {
    let indices: [Int]

    public init(_ names: [String], in columns: Columns) {
        indices = names.map { name in
            guard let index = columns.positions[name] else {
                preconditionFailure("no column '\(name)' in this result (columns: \(columns.names.joined(separator: ", ")))")
            }
            return index
        }
    }

    /// The result's index of the `k`th name.
    @inline(__always)
    public subscript(_ k: Int) -> Int { indices[k] }
}

/// One result row; columns by index or by name.
///
/// Naming a column the query does not return is a programming error, like an index out of
/// range: it stops the process (in every build) instead of reading as NULL, so a misspelt or
/// dropped column fails the first test that reaches it rather than turning into a silent 0.
public struct Row: Sendable {
    public let columns: Columns
    public let values: [SQLValue]

    public init(columns: Columns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public init(columns: [String], values: [SQLValue]) {
        self.init(columns: Columns(columns), values: values)
    }

    public subscript(_ name: String) -> SQLValue {
        guard let index = columns.positions[name] else {
            preconditionFailure("no column '\(name)' in this row (columns: \(columns.names.joined(separator: ", ")))")
        }
        return values[index]
    }

    /// Whether the query returned a column of that name.
    public func has(_ name: String) -> Bool { columns.positions[name] != nil }

    public func int(_ name: String) -> Int64? { Row.int(self[name]) }

    public func double(_ name: String) -> Double? {
        switch self[name] {
        case .integer(let v): return Double(v)
        case .bool(let b): return b ? 1 : 0
        case .real(let v): return v
        case .text(let s): return Double(s)
        default: return nil
        }
    }

    public func string(_ name: String) -> String? { Row.string(self[name]) }

    public func bool(_ name: String) -> Bool { (int(name) ?? 0) != 0 }

    /// Where `names` sit in this row's result (the same for every row of one query).
    public func positions(of names: [String]) -> ColumnPositions { ColumnPositions(names, in: columns) }

    // By index (see `ColumnPositions`): the same conversions as by name.

    public func int(at index: Int) -> Int64? { Row.int(values[index]) }
    public func string(at index: Int) -> String? { Row.string(values[index]) }

    private static func int(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let v): return v
        case .bool(let b): return b ? 1 : 0
        case .real(let v): return Int64(exactly: v.rounded(.towardZero))
        case .text(let s): return Int64(s)
        default: return nil
        }
    }

    private static func string(_ value: SQLValue) -> String? {
        switch value {
        case .text(let s): return s
        case .integer(let v): return String(v)
        case .bool(let b): return b ? "true" : "false"
        case .real(let v): return String(v)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }
}
