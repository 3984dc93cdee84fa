/// %XX-encoding of UTF-8 text (letters and digits stay, so do the given ASCII marks), and the
/// one %XX decoder (form fields, query strings, RFC 8187 values, file names in URLs).
public enum PercentEncoding {
    /// For a URL path segment or query value: only RFC 3986 unreserved characters stay.
    public static func component(_ text: String) -> String {
        encode(text, keeping: "-._~")
    }

    public static func encode(_ text: String, keeping marks: String) -> String {
        // Bytes that stay, as a 128-bit set: letters, digits and the ASCII marks.
        var low: UInt64 = 0x03ff_0000_0000_0000 // 0-9
        var high: UInt64 = 0x07ff_fffe_07ff_fffe // A-Z, a-z
        for mark in marks.utf8 where mark < 128 {
            if mark < 64 { low |= 1 << mark } else { high |= 1 << (mark - 64) }
        }
        func stays(_ byte: UInt8) -> Bool {
            byte < 64 ? low & (1 << byte) != 0 : byte < 128 && high & (1 << (byte - 64)) != 0
        }
        // Most names need no escape at all (lists encode one per entry): the text itself.
        var scan = text
        if scan.withUTF8({ $0.allSatisfy(stays) }) { return text }
        let hex = Hex.uppercaseDigits
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case _ where stays(byte):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (and `+` as a space when `plusAsSpace`).
    /// Invalid escapes are kept literally; invalid UTF-8 becomes U+FFFD.
    public static func decode(_ string: String, plusAsSpace: Bool = false) -> String {
        var copy = string
        return copy.withUTF8 { decode($0[...], plusAsSpace: plusAsSpace) }
    }

    public static func decode(_ string: Substring, plusAsSpace: Bool = false) -> String {
        var copy = string
        return copy.withUTF8 { decode($0[...], plusAsSpace: plusAsSpace) }
    }

    public static func decode(bytes: some Collection<UInt8>, plusAsSpace: Bool = false) -> String {
        Array(bytes).withUnsafeBufferPointer { decode($0[...], plusAsSpace: plusAsSpace) }
    }

    /// The decoded bytes, before any UTF-8 interpretation (RFC 8187 values may be Latin-1).
    public static func decodedBytes(_ bytes: some Collection<UInt8>, plusAsSpace: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        Array(bytes).withUnsafeBufferPointer { decode($0[...], plusAsSpace: plusAsSpace, into: &out) }
        return out
    }

    public static func decode(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusAsSpace: Bool) -> String {
        if !needsDecoding(bytes, plusAsSpace: plusAsSpace) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        decode(bytes, plusAsSpace: plusAsSpace, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the decoded form of `bytes` to `out`.
    public static func decode(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusAsSpace: Bool, into out: inout [UInt8]) {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), end - i >= 3, let hi = Hex.value(bytes[i + 1]), let lo = Hex.value(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusAsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i += 1
            }
        }
    }

    @inline(__always)
    private static func needsDecoding(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, plusAsSpace: Bool) -> Bool {
        for c in bytes where c == UInt8(ascii: "%") || (plusAsSpace && c == UInt8(ascii: "+")) { return true }
        return false
    }
}
