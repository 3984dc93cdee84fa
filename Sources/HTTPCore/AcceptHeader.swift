/// An HTTP `Accept` header read as media ranges with their q-values (RFC 9110 §12.5.1), for one
/// question: how much does the client want this media type?
///
/// Lenient where clients are sloppy, strict where a guess could mislead:
/// - elements are separated by `,`, parameters by `;`, with any spaces or tabs around them and
///   around `=` (`text/html ; q = 0.5`); names and tokens compare case-insensitively;
/// - `*/*`, `type/*` and `type/subtype` match; a bare `*` (old Java clients) counts as `*/*`;
/// - `q` is `0`–`1` with at most three decimals (`0.8`, `1.000`); `q=0` means "not acceptable";
/// - an element that is malformed (no `/`, an empty or illegal token, `*/html`, a bad or
///   out-of-range `q`) is ignored as a whole, never read as q=1;
/// - parameters other than `q` (`level=1`, `charset=…`) and everything after `q` are ignored.
/// No header, or one with no readable element, accepts everything at q=1.
public struct AcceptHeader: Sendable, Equatable {
    /// One media range and its weight in thousandths (0...1000).
    public struct Range: Sendable, Equatable {
        public let type: String
        public let subtype: String
        public let quality: Int

        public init(type: String, subtype: String, quality: Int) {
            self.type = type
            self.subtype = subtype
            self.quality = quality
        }

        /// 3 for `type/subtype`, 2 for `type/*`, 1 for `*/*`; 0: no match.
        func specificity(type t: Substring, subtype s: Substring) -> Int {
            if type == "*" { return 1 }
            guard type == t else { return 0 }
            if subtype == "*" { return 2 }
            return subtype == s ? 3 : 0
        }
    }

    /// The readable elements, in the order sent.
    public let ranges: [Range]

    /// Reads a header value; nil (no header) accepts everything.
    public init(_ header: String?) {
        var ranges: [Range] = []
        for element in (header ?? "").split(separator: ",", omittingEmptySubsequences: true) {
            if let range = AcceptHeader.range(element) { ranges.append(range) }
        }
        self.ranges = ranges
    }

    /// The weight (thousandths, 0...1000) the client gives `mediaType` (`type/subtype`, lower
    /// case): that of the most specific range matching it (the first of equals), 0 when none does.
    public func quality(of mediaType: String) -> Int {
        if ranges.isEmpty { return 1000 }
        let parts = mediaType.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return 0 }
        var best = 0
        var quality = 0
        for range in ranges {
            let specificity = range.specificity(type: parts[0], subtype: parts[1])
            if specificity > best {
                best = specificity
                quality = range.quality
            }
        }
        return quality
    }

    /// Whether the client weighs `mediaType` strictly above `other`.
    public func prefers(_ mediaType: String, over other: String) -> Bool {
        quality(of: mediaType) > quality(of: other)
    }

    /// One element (`type/subtype;param=value;q=0.5`), or nil when it is malformed.
    static func range(_ element: Substring) -> Range? {
        let pieces = element.split(separator: ";", omittingEmptySubsequences: false)
        let mediaRange = trim(pieces[0]).lowercased()
        let type: String
        let subtype: String
        if mediaRange == "*" {
            (type, subtype) = ("*", "*")
        } else {
            let halves = mediaRange.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard halves.count == 2, isToken(halves[0]), isToken(halves[1]) else { return nil }
            (type, subtype) = (String(halves[0]), String(halves[1]))
            if type == "*" && subtype != "*" { return nil }
        }
        var quality = 1000
        for parameter in pieces.dropFirst() {
            let nameValue = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = trim(nameValue[0])
            if name.isEmpty && nameValue.count == 1 { continue }  // `text/html;` (a stray separator)
            guard nameValue.count == 2, isToken(name[...]) else { return nil }
            guard name.lowercased() == "q" else { continue }
            guard let q = qValue(trim(nameValue[1])) else { return nil }
            quality = q
            break  // what follows q are accept extensions
        }
        return Range(type: type, subtype: subtype, quality: quality)
    }

    /// `0`, `0.d`, `0.dd`, `0.ddd`, `1`, `1.`, `1.0`, `1.00`, `1.000` in thousandths.
    static func qValue(_ text: Substring) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        guard bytes.count > 1 else { return value }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        var scale = 100
        for digit in bytes.dropFirst(2) {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return value <= 1000 ? value : nil
    }

    /// RFC 9110's token characters, at least one.
    static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(c)
            }
        }
    }

    /// Without surrounding spaces and tabs (the header's optional whitespace).
    static func trim(_ text: Substring) -> Substring {
        var text = text
        while let c = text.first, c == " " || c == "\t" { text = text.dropFirst() }
        while let c = text.last, c == " " || c == "\t" { text = text.dropLast() }
        return text
    }
}
