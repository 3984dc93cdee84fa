/// Compact JSON written straight into a byte buffer, member by member, with no tree in between
/// (no Foundation on the request path). The one JSON writer of every JSON dialect.
///
///     var w = JSONWriter()
///     w.beginObject()
///     w.member("id", file.id)          // "id":"…"
///     w.key("files"); w.beginArray(); …; w.endArray()
///     w.endObject()
///     Response(…, body: w.bytes)
///
/// Commas and colons are the writer's job; the caller only says what comes next. Output rules:
/// strings escape `"` and `\`, `\n` `\r` `\t` by name and other control characters as `\u00xx`
/// (lowercase hex), everything else (`/`, non-ASCII) as is; doubles that are whole and below
/// 10^15 are written as integers, NaN and infinities as `null` (JSON has neither).
public struct JSONWriter: ~Copyable {
    // Bytes go through a pointer into memory the writer owns (one writer, never copied), and the
    // small members are @inlinable: a list writes a few hundred bytes in a dozen calls per entry.
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var count = 0
    @usableFromInline var capacity: Int
    /// A value was written at this level: the next key or element needs a comma first.
    @usableFromInline var needsComma = false

    public init(capacity: Int = 256) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// What has been written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    // MARK: structure

    @inlinable public mutating func beginObject() { open(UInt8(ascii: "{")) }
    @inlinable public mutating func endObject() { close(UInt8(ascii: "}")) }
    @inlinable public mutating func beginArray() { open(UInt8(ascii: "[")) }
    @inlinable public mutating func endArray() { close(UInt8(ascii: "]")) }

    @inlinable
    mutating func open(_ bracket: UInt8) {
        separate()
        append(bracket)
        needsComma = false
    }

    @inlinable
    mutating func close(_ bracket: UInt8) {
        append(bracket)
        needsComma = true
    }

    /// A member name written as a literal: plain ASCII that needs no escaping (checked in debug builds).
    @inlinable
    public mutating func key(_ name: StaticString) {
        separate()
        append(UInt8(ascii: "\""))
        let start = name.utf8Start
        let count = name.utf8CodeUnitCount
        assert((0..<count).allSatisfy { start[$0] >= 0x20 && start[$0] < 0x7f && start[$0] != 0x22 && start[$0] != 0x5c },
               "JSON key literal needs escaping: \(name)")
        append(UnsafeBufferPointer(start: start, count: count))
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A member name from data, escaped like any string.
    public mutating func key(_ name: String) {
        string(name)
        append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: values

    /// A string value written in pieces (a URL from its parts, without joining them first):
    /// `beginString()`, any number of `stringContent(_:)`, `endString()`.
    @inlinable
    public mutating func beginString() {
        separate()
        append(UInt8(ascii: "\""))
    }

    /// The next piece of the string begun with `beginString()`, escaped.
    public mutating func stringContent(_ s: String) {
        var text = s // withUTF8 is free for native strings, and makes bridged ones contiguous
        text.withUTF8 { appendEscaped($0) }
    }

    @inlinable
    public mutating func endString() {
        append(UInt8(ascii: "\""))
        needsComma = true
    }

    @inlinable
    public mutating func string(_ s: String) {
        beginString()
        stringContent(s)
        endString()
    }

    @inlinable
    public mutating func string(_ s: String?) {
        guard let s else { return null() }
        string(s)
    }

    @inlinable
    public mutating func int(_ v: Int64) {
        separate()
        appendInteger(v)
        needsComma = true
    }

    @inlinable
    public mutating func int(_ v: Int64?) {
        guard let v else { return null() }
        int(v)
    }

    @inlinable
    public mutating func int(_ v: Int) { int(Int64(v)) }

    public mutating func double(_ d: Double) {
        separate()
        if !d.isFinite {
            append("null")
        } else if d == d.rounded() && abs(d) < 1e15 {
            appendInteger(Int64(d))
        } else {
            appendUTF8(String(d))
        }
        needsComma = true
    }

    @inlinable
    public mutating func bool(_ b: Bool) {
        separate()
        append(b ? "true" : "false")
        needsComma = true
    }

    @inlinable
    public mutating func null() {
        separate()
        append("null")
        needsComma = true
    }

    /// Already-rendered JSON text (a stored document), written as is; nil writes `null`.
    public mutating func raw(_ json: String?) {
        guard let json else { return null() }
        separate()
        appendUTF8(json)
        needsComma = true
    }

    // MARK: members (key and value); a String or Int64 member takes the optional form

    @inlinable public mutating func member(_ name: StaticString, _ value: String?) { key(name); string(value) }
    @inlinable public mutating func member(_ name: StaticString, _ value: Int64?) { key(name); int(value) }
    @inlinable public mutating func member(_ name: StaticString, _ value: Int) { key(name); int(value) }
    @inlinable public mutating func member(_ name: StaticString, _ value: Bool) { key(name); bool(value) }

    /// A whole document: `body` writes one value.
    public static func document(capacity: Int = 256, _ body: (inout JSONWriter) throws -> Void) rethrows -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        try body(&writer)
        return writer.bytes
    }

    // MARK: bytes

    @inlinable
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(1) }
        base[count] = byte
        count &+= 1
    }

    @inlinable
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        if bytes.count > capacity &- count { grow(bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count &+= bytes.count
    }

    @inlinable
    mutating func append(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func appendUTF8(_ s: String) {
        var text = s
        text.withUTF8 { append($0) }
    }

    /// At least doubles, so appends stay amortised O(1).
    @usableFromInline
    mutating func grow(_ needed: Int) {
        let newCapacity = max(capacity * 2, count + needed)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inlinable
    mutating func separate() {
        if needsComma { append(UInt8(ascii: ",")) }
    }


    /// Copies runs that need no escape in one go.
    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let text = utf8.baseAddress else { return }
        let end = utf8.count
        var run = 0
        var i = 0
        while i < end {
            // Eight bytes at a time while none of them needs an escape (most text).
            if end &- i >= 8 {
                let word = UnsafeRawPointer(text + i).loadUnaligned(as: UInt64.self)
                if !JSONWriter.mayNeedEscape(word) {
                    i &+= 8
                    continue
                }
            }
            let c = text[i]
            if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                i &+= 1
                continue
            }
            if run < i { append(UnsafeBufferPointer(start: text + run, count: i &- run)) }
            append(UInt8(ascii: "\\"))
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): append(c)
            case 0x0a: append(UInt8(ascii: "n"))
            case 0x0d: append(UInt8(ascii: "r"))
            case 0x09: append(UInt8(ascii: "t"))
            default:
                append("u00")
                append(Hex.lowercaseDigits[Int(c >> 4)])
                append(Hex.lowercaseDigits[Int(c & 15)])
            }
            i &+= 1
            run = i
        }
        if run < end { append(UnsafeBufferPointer(start: text + run, count: end &- run)) }
    }

    /// False only when none of the word's eight bytes is a control character, `"` or `\`
    /// (a true answer is checked byte by byte).
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        let control = (word &- ones &* 0x20) & ~word & highs != 0 // some byte below 0x20
        return control || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5c))
    }

    /// Decimal digits, as `String(v)` writes them.
    @usableFromInline
    mutating func appendInteger(_ v: Int64) {
        if v < 0 { append(UInt8(ascii: "-")) }
        var magnitude = v.magnitude
        if magnitude < 10 {
            append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        // 20 digits hold UInt64.max.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            var i = 24
            while magnitude > 0 {
                i -= 1
                scratch[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            append(UnsafeBufferPointer(start: scratch.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: 24 - i))
        }
    }
}
