/// Writes well-formed XML with Rails-style typed elements into one byte buffer.
///
/// Elements whose value is absent are left out entirely: one real client drops a
/// whole reply on an empty typed element.
public struct XMLWriter {
    public private(set) var bytes: [UInt8] = []
    private var stack: [String] = []
    private let indent: Bool

    /// The first line of every document this writer makes (the declaration and its newline).
    public static let declaration = Array(#"<?xml version="1.0" encoding="UTF-8"?>"#.utf8) + [10]

    public init(capacity: Int = 1024, indent: Bool = true) {
        bytes.reserveCapacity(capacity)
        self.indent = indent
        bytes.append(contentsOf: XMLWriter.declaration)
    }

    private mutating func pad() {
        guard indent else { return }
        for _ in 0..<stack.count { bytes.append(32); bytes.append(32) }
    }

    /// `<name>` or `<name type="…">`, indented.
    private mutating func startTag(_ name: String, type: String?) {
        pad()
        bytes.append(UInt8(ascii: "<"))
        bytes.append(contentsOf: name.utf8)
        if let type {
            bytes.append(contentsOf: #" type=""#.utf8)
            bytes.append(contentsOf: type.utf8)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: ">"))
    }

    public mutating func open(_ name: String, type: String? = nil) {
        startTag(name, type: type)
        if indent { bytes.append(10) }
        stack.append(name)
    }

    public mutating func openArray(_ name: String) { open(name, type: "array") }

    public mutating func close() {
        let name = stack.removeLast()
        pad()
        bytes.append(contentsOf: "</".utf8)
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ">"))
        if indent { bytes.append(10) }
    }

    /// A text element; `nil` leaves the element out, "" writes `<name></name>`.
    public mutating func element(_ name: String, _ value: String?, type: String? = nil) {
        guard let value else { return }
        startTag(name, type: type)
        XMLWriter.escape(value, into: &bytes)
        bytes.append(contentsOf: "</".utf8)
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ">"))
        if indent { bytes.append(10) }
    }

    public mutating func integer(_ name: String, _ value: Int64?) {
        element(name, value.map { String($0) }, type: "integer")
    }

    public mutating func integer(_ name: String, _ value: Int?) {
        element(name, value.map { String($0) }, type: "integer")
    }

    public mutating func float(_ name: String, _ value: Double?) {
        element(name, value.map(XMLWriter.shortest), type: "float")
    }

    public mutating func boolean(_ name: String, _ value: Bool?) {
        element(name, value.map { $0 ? "true" : "false" }, type: "boolean")
    }

    public mutating func datetime(_ name: String, _ unixSeconds: Int64?) {
        element(name, unixSeconds.map(DateTime.format), type: "datetime")
    }

    /// The finished document. All opened elements must be closed.
    public func finish() -> [UInt8] {
        precondition(stack.isEmpty, "XMLWriter: unclosed <\(stack.last ?? "")>")
        return bytes
    }

    /// Shortest round-tripping decimal form: 95.2, 10.0, 0.5.
    public static func shortest(_ value: Double) -> String {
        value.description
    }

    public static func escape(_ text: String, into out: inout [UInt8]) {
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case 0x09, 0x0a, 0x0d: out.append(c)
            case 0..<0x20: continue // not allowed in XML 1.0: drop
            default: out.append(c)
            }
        }
    }
}
