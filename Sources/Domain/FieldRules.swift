import Formats

/// Bounds on everything a client may store, in one place (the README lists them).
///
/// - A text field has a byte limit; crossing it is a 422 naming the field.
/// - Names, titles and ids refuse control characters (NUL included): a 400 naming the field.
/// - An id is also something a URL path segment must carry unchanged: no `/`, not `.` or
///   `..` (nginx merges dot segments), not a command word of its collection (`create`).
/// - A number has a range; a value outside it is a 422 naming the field and the range.
///   Ranges are chosen so that no arithmetic on stored values can overflow 64 bits.
public enum FieldRules {
    /// SKUs and order ids.
    public static let maxIDBytes = 255
    /// Item names and order titles.
    public static let maxNameBytes = 1024
    /// First and last names.
    public static let maxPersonNameBytes = 255
    /// RFC 5321's limit for a forward path (the mailer's rule, `EmailAddress`).
    public static let maxEmailBytes = EmailAddress.maxBytes
    /// File names (longer ones are cut when a file arrives).
    public static let maxFilenameBytes = 255
    /// URLs to import from.
    public static let maxURLBytes = 2048
    /// Account names.
    public static let maxAccountNameBytes = 255

    /// Download limits and downloads remaining.
    public static let downloadCount: ClosedRange<Int64> = 0...1_000_000_000
    /// `order_expiration_in_hours` of an account: up to about 114 years.
    public static let expirationHours: ClosedRange<Int64> = 0...1_000_000
    /// Item prices.
    public static let price: ClosedRange<Double> = 0...1_000_000_000_000

    /// Checks a free text field (names, titles): length and no control characters.
    public static func text(_ value: String?, field: String, maxBytes: Int) throws {
        guard let value else { return }
        if value.utf8.count > maxBytes { throw DomainError.unprocessable("\(field) is longer than \(maxBytes) bytes") }
        if hasControlCharacter(value) { throw DomainError.invalid("\(field) must not contain control characters") }
    }

    /// Checks a client-chosen identifier that later travels as a URL path segment.
    /// `reserved` are command words of its collection (`/api/items/create`).
    public static func identifier(_ value: String, field: String, reserved: Set<String> = []) throws {
        if value.utf8.count > maxIDBytes { throw DomainError.invalid("\(field) is longer than \(maxIDBytes) bytes") }
        if value.contains("/") { throw DomainError.invalid("\(field) must not contain '/'") }
        if hasControlCharacter(value) { throw DomainError.invalid("\(field) must not contain control characters") }
        if value == "." || value == ".." { throw DomainError.invalid("\(field) must not be '.' or '..': no URL can reach it") }
        if reserved.contains(value) {
            throw DomainError.invalid("\(field) must not be '\(value)': the URL is a command")
        }
    }

    public static func number(_ value: Int64?, field: String, in range: ClosedRange<Int64>) throws {
        guard let value, !range.contains(value) else { return }
        throw DomainError.unprocessable("\(field) must be between \(range.lowerBound) and \(range.upperBound)")
    }

    public static func number(_ value: Double?, field: String, in range: ClosedRange<Double>) throws {
        guard let value else { return }
        guard value.isFinite, range.contains(value) else {
            throw DomainError.unprocessable("\(field) must be a number between \(Int64(range.lowerBound)) and \(Int64(range.upperBound))")
        }
    }

    public static func hasControlCharacter(_ value: String) -> Bool {
        value.utf8.contains { $0 < 0x20 || $0 == 0x7f }
    }
}

extension FieldRules {
    /// `value + plus − minus`, clamped to `range`; never traps.
    public static func clamp(_ value: Int64, plus: Int64, minus: Int64, to range: ClosedRange<Int64>) -> Int64 {
        let (added, o1) = value.addingReportingOverflow(plus)
        if o1 { return plus > 0 ? range.upperBound : range.lowerBound }
        let (result, o2) = added.subtractingReportingOverflow(minus)
        if o2 { return minus > 0 ? range.lowerBound : range.upperBound }
        return min(max(result, range.lowerBound), range.upperBound)
    }
}
