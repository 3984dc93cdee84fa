import Formats
/// A small, strict, non-validating XML reader for request bodies.
///
/// It reads UTF-8 bytes into an `XMLNode` tree and refuses anything that could
/// be abused: DTDs (`<!DOCTYPE`, `<!ENTITY`, …), named entities other than the
/// five predefined ones, deep nesting and oversized input. Parsing uses an
/// explicit stack, so hostile nesting cannot overflow the call stack; the
/// resulting tree is at most `XMLReader.maxDepth` levels deep, so the recursive
/// helpers on `XMLNode` stay bounded too.

/// One element: its name, attributes in document order, child elements and the
/// character data directly inside it (entities decoded, CDATA included).
public struct XMLNode: Equatable, Sendable {
    public var name: String
    public var attributes: [(String, String)]
    public var children: [XMLNode]
    public var text: String

    public init(name: String, attributes: [(String, String)] = [], children: [XMLNode] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    public static func == (lhs: XMLNode, rhs: XMLNode) -> Bool {
        lhs.name == rhs.name
            && lhs.text == rhs.text
            && lhs.attributes.count == rhs.attributes.count
            && zip(lhs.attributes, rhs.attributes).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            && lhs.children == rhs.children
    }

    /// Value of the attribute with this exact name, if present.
    public func attribute(_ name: String) -> String? {
        attributes.first(where: { $0.0 == name })?.1
    }
}

public struct XMLReadError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    /// The document is larger than `XMLReader.maxBytes` (a reader's limit, not malformed XML).
    public let tooLarge: Bool

    public init(_ message: String, tooLarge: Bool = false) {
        self.message = message
        self.tooLarge = tooLarge
    }

    public var description: String { "XML error: \(message)" }
}

public enum XMLReader {
    /// Deepest element nesting accepted (the root is depth 1).
    public static let maxDepth = 32
    /// Largest document accepted, in bytes.
    public static let maxBytes = 1 << 20

    /// Parse a complete document and return its root element.
    public static func parse(_ bytes: [UInt8]) throws(XMLReadError) -> XMLNode {
        var scanner = XMLScanner(bytes)
        return try scanner.document()
    }

    /// Parse a document and convert it to `Params`, keyed by the root element's name.
    public static func params(_ bytes: [UInt8]) throws(XMLReadError) -> Params {
        let root = try parse(bytes)
        return .object([(root.name, root.toParams())])
    }
}

extension XMLNode {
    /// Rails-style conversion: `nil="true"` is null, `type="array"` (or two or
    /// more children all of one name) an array, other elements with children an
    /// object in document order, and leaf elements their trimmed text.
    public func toParams() -> Params {
        // `nil="true"` (Rails) or `xsi:nil="true"` (.NET).
        if attributes.contains(where: { ($0.0 == "nil" || $0.0.hasSuffix(":nil")) && $0.1 == "true" }) { return .null }
        let type = attribute("type")
        if type == "array" {
            return .array(children.map { $0.toParams() })
        }
        if !children.isEmpty {
            if type == nil, children.count >= 2 {
                let first = children[0].name
                if children.allSatisfy({ $0.name == first }) {
                    return .array(children.map { $0.toParams() })
                }
            }
            return .object(children.map { ($0.name, $0.toParams()) })
        }
        return .string(XMLNode.trimmed(text))
    }

    static func trimmed(_ s: String) -> String {
        let bytes = Array(s.utf8)
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        var lo = 0
        var hi = bytes.count
        while lo < hi, isSpace(bytes[lo]) { lo += 1 }
        while hi > lo, isSpace(bytes[hi - 1]) { hi -= 1 }
        if lo == 0 && hi == bytes.count { return s }
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}

// MARK: - Scanner

private enum Byte {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let dquote: UInt8 = 0x22  // "
    static let hash: UInt8 = 0x23  // #
    static let amp: UInt8 = 0x26  // &
    static let squote: UInt8 = 0x27  // '
    static let dash: UInt8 = 0x2D  // -
    static let dot: UInt8 = 0x2E  // .
    static let slash: UInt8 = 0x2F  // /
    static let colon: UInt8 = 0x3A  // :
    static let semicolon: UInt8 = 0x3B  // ;
    static let lt: UInt8 = 0x3C  // <
    static let equals: UInt8 = 0x3D  // =
    static let gt: UInt8 = 0x3E  // >
    static let question: UInt8 = 0x3F  // ?
    static let rbracket: UInt8 = 0x5D  // ]
    static let underscore: UInt8 = 0x5F  // _
    static let x: UInt8 = 0x78  // x
}

private struct XMLScanner {
    /// An element whose start tag has been read but whose end tag has not.
    struct Frame {
        var name: String
        var attributes: [(String, String)]
        var children: [XMLNode] = []
        var text: [UInt8] = []
        let start: Int

        func node() -> XMLNode {
            XMLNode(name: name, attributes: attributes, children: children,
                    text: String(decoding: text, as: UTF8.self))
        }
    }

    let b: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) {
        b = bytes
    }

    // MARK: Helpers

    func line(at position: Int) -> Int {
        var line = 1
        var k = 0
        let end = min(position, b.count)
        while k < end {
            if b[k] == Byte.lf { line += 1 }
            k += 1
        }
        return line
    }

    func error(_ message: String, at position: Int) -> XMLReadError {
        XMLReadError("\(message) at line \(line(at: position))")
    }

    func error(_ message: String) -> XMLReadError {
        error(message, at: i)
    }

    func startsWith(_ literal: StaticString, at position: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position >= 0, position + count <= b.count else { return false }
        return literal.withUTF8Buffer { lit in
            var k = 0
            while k < count {
                if b[position + k] != lit[k] { return false }
                k += 1
            }
            return true
        }
    }

    func startsWith(_ literal: StaticString) -> Bool {
        startsWith(literal, at: i)
    }

    static func isSpace(_ c: UInt8) -> Bool {
        c == Byte.space || c == Byte.tab || c == Byte.lf || c == Byte.cr
    }

    static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == Byte.underscore || c == Byte.colon || c >= 0x80
    }

    static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= 0x30 && c <= 0x39) || c == Byte.dash || c == Byte.dot
    }

    /// Skip whitespace; report whether there was any.
    @discardableResult
    mutating func skipSpace() -> Bool {
        let start = i
        while i < b.count, XMLScanner.isSpace(b[i]) { i += 1 }
        return i > start
    }

    mutating func name(_ what: String) throws(XMLReadError) -> String {
        let start = i
        guard i < b.count, XMLScanner.isNameStart(b[i]) else {
            throw error(i < b.count ? "expected \(what)" : "unexpected end of input, expected \(what)")
        }
        i += 1
        while i < b.count, XMLScanner.isNameChar(b[i]) { i += 1 }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    /// Position of the first occurrence of `terminator` at or after `from`, if any.
    func find(_ terminator: StaticString, from: Int) -> Int? {
        let count = terminator.utf8CodeUnitCount
        var k = from
        while k + count <= b.count {
            if startsWith(terminator, at: k) { return k }
            k += 1
        }
        return nil
    }

    // MARK: Input checks

    /// Input must be well-formed UTF-8 made of XML characters only.
    func validateCharacters() throws(XMLReadError) {
        let n = b.count
        var j = 0
        while j < n {
            let c0 = b[j]
            if c0 < 0x80 {
                if c0 < 0x20 && c0 != Byte.tab && c0 != Byte.lf && c0 != Byte.cr {
                    throw error("control character U+\(hex4(UInt32(c0))) is not allowed", at: j)
                }
                j += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            let minimum: UInt32
            if c0 & 0xE0 == 0xC0 {
                length = 2; scalar = UInt32(c0 & 0x1F); minimum = 0x80
            } else if c0 & 0xF0 == 0xE0 {
                length = 3; scalar = UInt32(c0 & 0x0F); minimum = 0x800
            } else if c0 & 0xF8 == 0xF0 {
                length = 4; scalar = UInt32(c0 & 0x07); minimum = 0x10000
            } else {
                throw error("invalid UTF-8 (byte offset \(j))", at: j)
            }
            guard j + length <= n else { throw error("invalid UTF-8: truncated sequence (byte offset \(j))", at: j) }
            var k = 1
            while k < length {
                let c = b[j + k]
                guard c & 0xC0 == 0x80 else { throw error("invalid UTF-8 (byte offset \(j))", at: j) }
                scalar = scalar << 6 | UInt32(c & 0x3F)
                k += 1
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
                throw error("invalid UTF-8 (byte offset \(j))", at: j)
            }
            guard scalar != 0xFFFE, scalar != 0xFFFF else {
                throw error("character U+\(hex4(scalar)) is not allowed", at: j)
            }
            j += length
        }
    }

    func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
    }

    // MARK: Document

    mutating func document() throws(XMLReadError) -> XMLNode {
        guard b.count <= XMLReader.maxBytes else {
            throw XMLReadError("document is larger than \(XMLReader.maxBytes) bytes", tooLarge: true)
        }
        guard !b.isEmpty else { throw XMLReadError("empty document") }
        try validateCharacters()

        if startsWith("\u{FEFF}") { i = 3 }
        if startsWith("<?xml"), i + 5 < b.count, XMLScanner.isSpace(b[i + 5]) || b[i + 5] == Byte.question {
            try processingInstruction()
        }
        try misc()
        guard i < b.count else { throw XMLReadError("no root element") }
        guard b[i] == Byte.lt else { throw error("text before the root element") }
        let root = try rootElement()
        try misc()
        if i < b.count {
            if b[i] == Byte.lt {
                throw error("content after the root element </\(root.name)> (only one root element is allowed)")
            }
            throw error("text after the root element </\(root.name)>")
        }
        return root
    }

    /// Whitespace, comments and processing instructions outside the root element.
    mutating func misc() throws(XMLReadError) {
        while true {
            skipSpace()
            if startsWith("<!--") {
                try comment()
            } else if startsWith("<?") {
                try processingInstruction()
            } else if startsWith("<!") {
                throw declarationError()
            } else {
                return
            }
        }
    }

    /// The error for a `<!` construct that is neither a comment nor CDATA.
    func declarationError() -> XMLReadError {
        if startsWith("<!DOCTYPE") {
            return error("DOCTYPE is not allowed")
        }
        if startsWith("<!ENTITY") {
            return error("ENTITY declaration is not allowed")
        }
        if startsWith("<![CDATA[") {
            return error("CDATA section outside the root element")
        }
        return error("markup declaration \"<!\" is not allowed")
    }

    // MARK: Comments, PIs, CDATA

    /// At `<!--`: skip to the matching `-->`; `--` may not occur inside.
    mutating func comment() throws(XMLReadError) {
        let start = i
        i += 4
        while true {
            guard i + 1 < b.count else { throw error("unterminated comment", at: start) }
            if b[i] == Byte.dash && b[i + 1] == Byte.dash {
                guard i + 2 < b.count else { throw error("unterminated comment", at: start) }
                guard b[i + 2] == Byte.gt else { throw error("\"--\" is not allowed inside a comment") }
                i += 3
                return
            }
            i += 1
        }
    }

    /// At `<?`: read the target and skip to `?>`.
    mutating func processingInstruction() throws(XMLReadError) {
        let start = i
        i += 2
        let target = try name("processing instruction target")
        if target.lowercased() == "xml" && start != 0 && !(start == 3 && startsWith("\u{FEFF}", at: 0)) {
            throw error("XML declaration is only allowed at the start of the document", at: start)
        }
        if !startsWith("?>") && !skipSpace() {
            throw error("expected whitespace after processing instruction target")
        }
        guard let end = find("?>", from: i) else {
            throw error("unterminated processing instruction <?\(target)", at: start)
        }
        i = end + 2
    }

    /// At `<![CDATA[`: append the section's content verbatim (line ends normalised).
    mutating func cdata(into text: inout [UInt8]) throws(XMLReadError) {
        let start = i
        i += 9
        guard let end = find("]]>", from: i) else { throw error("unterminated CDATA section", at: start) }
        while i < end {
            appendNormalisingLineEnd(into: &text, limit: end)
        }
        i = end + 3
    }

    /// Append b[i], turning CR LF and lone CR into LF; advances `i`.
    mutating func appendNormalisingLineEnd(into text: inout [UInt8], limit: Int) {
        let c = b[i]
        i += 1
        if c == Byte.cr {
            text.append(Byte.lf)
            if i < limit && b[i] == Byte.lf { i += 1 }
        } else {
            text.append(c)
        }
    }

    // MARK: References

    /// At `&`: decode a predefined entity or character reference into `out`.
    mutating func reference(into out: inout [UInt8]) throws(XMLReadError) {
        let start = i
        i += 1
        guard i < b.count else { throw error("unterminated entity reference", at: start) }
        if b[i] == Byte.hash {
            i += 1
            var radix: UInt32 = 10
            if i < b.count && b[i] == Byte.x {
                radix = 16
                i += 1
            }
            var value: UInt32 = 0
            var digits = 0
            while i < b.count {
                let c = b[i]
                guard let digit = Hex.value(c), radix == 16 || digit < 10 else { break }
                let d = UInt32(digit)
                // Saturate above the Unicode range instead of overflowing.
                value = value > 0x10FFFF ? value : value * radix + d
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw error("malformed character reference", at: start) }
            guard i < b.count, b[i] == Byte.semicolon else {
                throw error("character reference is missing ';'", at: start)
            }
            i += 1
            let allowed = value == 0x9 || value == 0xA || value == 0xD
                || (0x20...0xD7FF).contains(value)
                || (0xE000...0xFFFD).contains(value)
                || (0x10000...0x10FFFF).contains(value)
            guard allowed, let scalar = Unicode.Scalar(value) else {
                throw error("character reference to an invalid character", at: start)
            }
            UTF8.encode(scalar) { out.append($0) }
            return
        }
        guard XMLScanner.isNameStart(b[i]) else { throw error("'&' must start an entity reference (use &amp;)", at: start) }
        let entity = try name("entity name")
        guard i < b.count, b[i] == Byte.semicolon else {
            throw error("entity reference &\(entity) is missing ';'", at: start)
        }
        i += 1
        switch entity {
        case "lt": out.append(Byte.lt)
        case "gt": out.append(Byte.gt)
        case "amp": out.append(Byte.amp)
        case "quot": out.append(Byte.dquote)
        case "apos": out.append(Byte.squote)
        default: throw error("entity reference &\(entity); is not allowed", at: start)
        }
    }

    // MARK: Elements

    /// At `<name`: read a start tag. Returns the frame and whether it was `<name/>`.
    mutating func startTag() throws(XMLReadError) -> (Frame, selfClosing: Bool) {
        let start = i
        i += 1
        let elementName = try name("element name")
        var attributes: [(String, String)] = []
        var seen: Set<String> = []
        while true {
            let hadSpace = skipSpace()
            guard i < b.count else { throw error("unterminated start tag <\(elementName)", at: start) }
            if b[i] == Byte.gt {
                i += 1
                return (Frame(name: elementName, attributes: attributes, start: start), false)
            }
            if b[i] == Byte.slash {
                guard i + 1 < b.count else { throw error("unterminated start tag <\(elementName)", at: start) }
                guard b[i + 1] == Byte.gt else { throw error("expected '>' after '/' in <\(elementName)") }
                i += 2
                return (Frame(name: elementName, attributes: attributes, start: start), true)
            }
            guard hadSpace else { throw error("expected whitespace, '>' or '/>' in <\(elementName)") }
            let attributeName = try name("attribute name in <\(elementName)")
            skipSpace()
            guard i < b.count else { throw error("unterminated start tag <\(elementName)", at: start) }
            guard b[i] == Byte.equals else { throw error("expected '=' after attribute \(attributeName)") }
            i += 1
            skipSpace()
            guard i < b.count else { throw error("unterminated start tag <\(elementName)", at: start) }
            let quote = b[i]
            guard quote == Byte.dquote || quote == Byte.squote else {
                throw error("attribute \(attributeName) value must be quoted")
            }
            let valueStart = i
            i += 1
            var value: [UInt8] = []
            while true {
                guard i < b.count else { throw error("unterminated value of attribute \(attributeName)", at: valueStart) }
                let c = b[i]
                if c == quote {
                    i += 1
                    break
                } else if c == Byte.lt {
                    throw error("'<' is not allowed in the value of attribute \(attributeName)")
                } else if c == Byte.amp {
                    try reference(into: &value)
                } else if c == Byte.cr {
                    value.append(Byte.space)
                    i += 1
                    if i < b.count && b[i] == Byte.lf { i += 1 }
                } else if c == Byte.lf || c == Byte.tab {
                    value.append(Byte.space)
                    i += 1
                } else {
                    value.append(c)
                    i += 1
                }
            }
            // A linear scan is cheapest for the usual handful of attributes; a set keeps
            // hostile inputs with thousands of attributes from going quadratic.
            let duplicate: Bool
            if attributes.count < 16 {
                duplicate = attributes.contains(where: { $0.0 == attributeName })
            } else {
                if seen.isEmpty { seen = Set(attributes.map { $0.0 }) }
                duplicate = !seen.insert(attributeName).inserted
            }
            if duplicate {
                throw error("duplicate attribute \(attributeName) in <\(elementName)>", at: start)
            }
            attributes.append((attributeName, String(decoding: value, as: UTF8.self)))
        }
    }

    /// At the root's `<`: read the whole element iteratively with an explicit stack.
    mutating func rootElement() throws(XMLReadError) -> XMLNode {
        var stack: [Frame] = []

        // Read a start tag at `i`; returns the finished node if the root itself was
        // self-closing, otherwise pushes it / attaches it to its parent.
        func open(_ scanner: inout XMLScanner, _ stack: inout [Frame]) throws(XMLReadError) -> XMLNode? {
            if stack.count >= XMLReader.maxDepth {
                throw scanner.error("elements nested deeper than \(XMLReader.maxDepth) levels")
            }
            let (frame, selfClosing) = try scanner.startTag()
            if !selfClosing {
                stack.append(frame)
                return nil
            }
            if stack.isEmpty { return frame.node() }
            stack[stack.count - 1].children.append(frame.node())
            return nil
        }

        if let node = try open(&self, &stack) { return node }

        while true {
            guard i < b.count else {
                let top = stack[stack.count - 1]
                throw XMLReadError("unexpected end of input: unclosed element <\(top.name)> opened at line \(line(at: top.start))")
            }
            let c = b[i]
            if c == Byte.lt {
                if startsWith("</") {
                    let closeStart = i
                    i += 2
                    let closing = try name("element name in closing tag")
                    skipSpace()
                    guard i < b.count else { throw error("unterminated closing tag </\(closing)", at: closeStart) }
                    guard b[i] == Byte.gt else { throw error("expected '>' to end closing tag </\(closing)") }
                    i += 1
                    let top = stack.removeLast()
                    guard closing == top.name else {
                        throw error("mismatched closing tag </\(closing)> for <\(top.name)>", at: closeStart)
                    }
                    let node = top.node()
                    if stack.isEmpty { return node }
                    stack[stack.count - 1].children.append(node)
                } else if startsWith("<!--") {
                    try comment()
                } else if startsWith("<![CDATA[") {
                    try cdata(into: &stack[stack.count - 1].text)
                } else if startsWith("<?") {
                    try processingInstruction()
                } else if startsWith("<!") {
                    throw declarationError()
                } else {
                    _ = try open(&self, &stack)
                }
            } else if c == Byte.amp {
                try reference(into: &stack[stack.count - 1].text)
            } else if c == Byte.rbracket && startsWith("]]>") {
                throw error("\"]]>\" is not allowed in text")
            } else {
                appendNormalisingLineEnd(into: &stack[stack.count - 1].text, limit: b.count)
            }
        }
    }
}
