/// A strict JSON body (RFC 8259) read into `Params`, the tree every other input becomes:
/// objects stay objects (members in order), arrays arrays, strings strings, `null` null; numbers
/// and `true`/`false` become their text ("12.5", "true"), as they would arrive in a form.
/// The body must be one object. Nesting is bounded (`maxDepth`); the body's size is the gate's.
public enum JSONReader {
    public struct Error: Swift.Error, Equatable, Sendable {
        public let message: String
    }

    /// Deepest nesting of objects and arrays taken.
    public static let maxDepth = 64

    public static func params(_ bytes: [UInt8]) throws(JSONReader.Error) -> Params {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{") else { throw Error(message: "the JSON body must be an object") }
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.i == bytes.count else { throw reader.fail("unexpected text after the JSON value") }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var i = 0

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        func fail(_ what: String) -> Error { Error(message: "Malformed JSON: \(what) at byte \(i)") }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws(JSONReader.Error) {
            guard peek == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
            i += 1
        }

        mutating func literal(_ word: String) throws(JSONReader.Error) {
            for c in word.utf8 { try expect(c) }
        }

        mutating func value(depth: Int) throws(JSONReader.Error) -> Params {
            skipSpace()
            guard let c = peek else { throw fail("unexpected end") }
            switch c {
            case UInt8(ascii: "{"):
                guard depth < JSONReader.maxDepth else { throw fail("nesting deeper than \(JSONReader.maxDepth)") }
                i += 1
                var members: [(String, Params)] = []
                skipSpace()
                if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard peek == UInt8(ascii: "\"") else { throw fail("expected a member name") }
                    let name = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    members.append((name, try value(depth: depth + 1)))
                    skipSpace()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return .object(members)
                }
            case UInt8(ascii: "["):
                guard depth < JSONReader.maxDepth else { throw fail("nesting deeper than \(JSONReader.maxDepth)") }
                i += 1
                var items: [Params] = []
                skipSpace()
                if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if peek == UInt8(ascii: ",") { i += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return .array(items)
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .string("true")
            case UInt8(ascii: "f"): try literal("false"); return .string("false")
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .string(try number())
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as written.
        mutating func number() throws(JSONReader.Error) -> String {
            let start = i
            func digits(_ r: inout Reader) -> Int {
                let from = r.i
                while let c = r.peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { r.i += 1 }
                return r.i - from
            }
            if peek == UInt8(ascii: "-") { i += 1 }
            if peek == UInt8(ascii: "0") {
                i += 1
            } else if digits(&self) == 0 {
                throw fail("unexpected character")
            }
            if peek == UInt8(ascii: ".") {
                i += 1
                guard digits(&self) > 0 else { throw fail("a digit must follow the decimal point") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard digits(&self) > 0 else { throw fail("an exponent needs digits") }
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        /// A string from its opening quote: escapes decoded (surrogate pairs joined), valid UTF-8 only.
        mutating func string() throws(JSONReader.Error) -> String {
            i += 1
            var out: [UInt8] = []
            var runStart = i
            while true {
                guard let c = peek else { throw fail("unterminated string") }
                if c == UInt8(ascii: "\"") {
                    out.append(contentsOf: bytes[runStart..<i])
                    i += 1
                    break
                }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") { i += 1; continue }
                out.append(contentsOf: bytes[runStart..<i])
                i += 1
                guard let e = peek else { throw fail("unterminated escape") }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard peek == UInt8(ascii: "\\") else { throw fail("unpaired surrogate") }
                        i += 1
                        try expect(UInt8(ascii: "u"))
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default: throw fail("unknown escape")
                }
                runStart = i
            }
            guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
            return text
        }

        mutating func hex4() throws(JSONReader.Error) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Hex.value(bytes[i]) else { throw fail("bad \\u escape") }
                value = value << 4 | UInt32(digit)
                i += 1
            }
            return value
        }
    }
}
