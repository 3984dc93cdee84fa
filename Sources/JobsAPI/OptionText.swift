/// The jobs dialect's option values as text (JSON numbers and booleans arrive as text in
/// `Params`): standard library only, so the fuzzer (Fuzz/FuzzJobOptions) links this very file.
enum OptionText {
    /// Seconds as a number (`12.5`) or a clock time (`1:02:03.5`, `02:03`: minutes and seconds
    /// below 60, only the last part with a fraction); at most 32 bytes. nil for anything else.
    static func seconds(_ text: String) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard text.utf8.count <= 32, (1...3).contains(parts.count) else { return nil }
        var total = 0.0
        for (index, part) in parts.enumerated() {
            let last = index == parts.count - 1
            guard !part.isEmpty, part.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || (last && $0 == 0x2E) }),
                  part.utf8.filter({ $0 == 0x2E }).count <= 1, part.utf8.first != 0x2E, part.utf8.last != 0x2E,
                  let value = Double(part), value.isFinite, index == 0 || value < 60 else { return nil }
            total = total * 60 + value
        }
        return total.isFinite ? total : nil
    }

    /// `720` or `720p` when it is one of `allowed`.
    static func height(_ text: String, allowed: [Int]) -> Int? {
        let digits = text.hasSuffix("p") ? text.dropLast() : Substring(text)
        guard (1...4).contains(digits.count), digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits),
              allowed.contains(value) else { return nil }
        return value
    }

    /// `true`/`1` or `false`/`0` (a JSON boolean, or a form's checkbox).
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "1": true
        case "false", "0": false
        default: nil
        }
    }

    /// `"en, pt-BR"` as its comma-separated, trimmed, non-empty parts.
    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
            .filter { !$0.isEmpty }
    }
}
