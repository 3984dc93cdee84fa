import Dialect
import HTTPCore

/// Typed reads of client fields; a value that is present but unreadable is a 400 naming the field.
enum InputReader {
    static func double(_ value: Params?, field: String) throws -> Double? {
        guard let text = value?.string?.trimmingWhitespace, !text.isEmpty else { return nil }
        guard let number = Double(text), number.isFinite else { throw Failure.badRequest("\(field) is not a number: \(text)") }
        return number
    }

    static func integer(_ value: Params?, field: String) throws -> Int64? {
        guard let text = value?.string?.trimmingWhitespace, !text.isEmpty else { return nil }
        guard let number = Int64(text) else { throw Failure.badRequest("\(field) is not an integer: \(text)") }
        return number
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
