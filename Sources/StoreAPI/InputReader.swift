import Dialect
import Domain
import HTTPCore

/// Typed reads of client fields; a value that is present but unreadable is a 400 naming the field.
enum InputReader {
    static func double(_ value: Params?, field: String) throws -> Double? {
        guard let text = value?.string?.trimmingWhitespace, !text.isEmpty else { return nil }
        guard let number = Double(text), number.isFinite else { throw Failure.badRequest("\(field) is not a number: \(text.prefix(40))") }
        return number
    }

    static func integer(_ value: Params?, field: String) throws -> Int64? {
        guard let text = value?.string?.trimmingWhitespace, !text.isEmpty else { return nil }
        if let number = Int64(text) { return number }
        // All digits, but past 64 bits: a number, just out of any range we keep.
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        if !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            throw DomainError.unprocessable("\(field) is out of range: \(text.prefix(40))")
        }
        throw Failure.badRequest("\(field) is not an integer: \(text.prefix(40))")
    }

    static func boolean(_ value: Params?, field: String) throws -> Bool? {
        guard let text = value?.string?.trimmingWhitespace.lowercased(), !text.isEmpty else { return nil }
        switch text {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw Failure.badRequest("\(field) is not a boolean: \(text)")
        }
    }

    /// nil when absent, empty or the .NET "unset" value `0001-01-01T00:00:00`.
    static func datetime(_ value: Params?, field: String) throws -> Int64? {
        guard let text = value?.string else { return nil }
        switch DateTime.parse(text) {
        case .value(let t): return t
        case .unset: return nil
        case .invalid: throw Failure.badRequest("\(field) is not a valid datetime: \(text)")
        }
    }
}
