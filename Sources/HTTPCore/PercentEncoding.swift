/// %XX-encoding of UTF-8 text: letters and digits stay, so do the given ASCII marks.
public enum PercentEncoding {
    /// For a URL path segment or query value: only RFC 3986 unreserved characters stay.
    public static func component(_ text: String) -> String {
        encode(text, keeping: "-._~")
    }

    public static func encode(_ text: String, keeping marks: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        let keep = Set(marks.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                out.append(byte)
            case _ where keep.contains(byte):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
