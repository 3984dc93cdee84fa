/// Base64 (standard and URL-safe) without Foundation: the one encoder and strict decoder.
public enum Base64 {
    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8], urlSafe: Bool = false, padding: Bool = true) -> String {
        let table = urlSafe ? Self.urlSafe : Self.standard
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(table[Int(n >> 18 & 63)]); out.append(table[Int(n >> 12 & 63)])
            out.append(table[Int(n >> 6 & 63)]); out.append(table[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            var n = UInt32(bytes[i]) << 16
            if rest == 2 { n |= UInt32(bytes[i + 1]) << 8 }
            out.append(table[Int(n >> 18 & 63)]); out.append(table[Int(n >> 12 & 63)])
            if rest == 2 { out.append(table[Int(n >> 6 & 63)]) }
            if padding { out.append(contentsOf: Array(repeating: UInt8(ascii: "="), count: 3 - rest)) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes strict base64 of one alphabet (standard, or URL-safe when `urlSafe`):
    /// `=` only at the end, and then exactly to a multiple of four characters; unpadded input
    /// is accepted; unused low bits of the last character must be zero. Nil otherwise.
    public static func decode(_ string: String, urlSafe: Bool = false) -> [UInt8]? {
        let c62 = urlSafe ? UInt8(ascii: "-") : UInt8(ascii: "+")
        let c63 = urlSafe ? UInt8(ascii: "_") : UInt8(ascii: "/")
        let utf8 = Array(string.utf8)
        var end = utf8.count
        var padding = 0
        while end > 0 && utf8[end - 1] == UInt8(ascii: "=") { end -= 1; padding += 1 }
        if padding > 2 || (padding > 0 && utf8.count % 4 != 0) { return nil }
        if end % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(end * 3 / 4)
        var n: UInt32 = 0
        var bits = 0
        for i in 0..<end {
            let c = utf8[i]
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - 97 + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - 48 + 52
            case c62: v = 62
            case c63: v = 63
            default: return nil
            }
            n = n << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: n >> UInt32(bits)))
                n &= (1 << UInt32(bits)) - 1
            }
        }
        if n != 0 { return nil }  // leftover bits must be zero: one encoding per byte string
        return out
    }
}
