/// The one rule for an email address, shared by order input (Domain) and mail delivery
/// (Outbound): whatever an order accepts, the mailer can send.
///
/// A bare `local@domain` with nothing that could smuggle headers or recipients: at most
/// 254 bytes (RFC 5321's forward path), exactly one `@`, a non-empty local part, a domain of
/// at least two non-empty dot-separated labels, and none of `<>"(),;:\[]`, whitespace or
/// control characters anywhere.
public enum EmailAddress {
    public static let maxBytes = 254

    /// Why `address` is refused, or nil when it is acceptable.
    public static func problem(_ address: String) -> String? {
        if address.utf8.count > maxBytes { return "is longer than \(maxBytes) bytes" }
        for scalar in address.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f || scalar.properties.isWhitespace
                || scalar.properties.generalCategory == .control {
                return "must not contain spaces or control characters"
            }
            if forbidden.contains(scalar) { return "must not contain \(scalar)" }
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must contain exactly one @" }
        guard !parts[0].isEmpty else { return "needs a local part before the @" }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else {
            return "needs a domain with a dot after the @ (like example.com)"
        }
        return nil
    }

    public static func isValid(_ address: String) -> Bool { problem(address) == nil }

    private static let forbidden = Set("<>\"(),;:\\[]".unicodeScalars)
}
