/// Trimming without Foundation (whose `trimmingCharacters(in:)` needs the whole of it loaded):
/// `Character.isWhitespace` is Unicode's White_Space, as Foundation's `.whitespacesAndNewlines`.
public enum Whitespace {
    /// `text` without whitespace at either end; with `newlines: false` line breaks stay (Foundation's `.whitespaces`).
    public static func trim(_ text: some StringProtocol, newlines: Bool = true) -> String {
        let blank = { (c: Character) in c.isWhitespace && (newlines || !c.isNewline) }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return String(text[first...last])
    }
}
