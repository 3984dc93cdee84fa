/// Media types of stored files: one rule for every way a file arrives (store upload, Files
/// upload, URL import, admin CLI) and for every header that carries one.
public enum ContentTypes {
    /// Longest media type kept, parameters included: it rides in a response header.
    public static let maxBytes = 255

    /// The type to store and send for a file: `given` when it is a valid media type
    /// (`type/subtype` tokens, optional `; name=value` parameters, at most `maxBytes`, no
    /// control characters) and says more than `application/octet-stream`; otherwise the
    /// type its name's extension implies.
    public static func normalize(_ given: String?, filename: String) -> String {
        if let given, let valid = validated(given), valid != "application/octet-stream" { return valid }
        return guess(filename: filename)
    }

    /// `raw` trimmed, with type and subtype lower-cased, when it is a valid media type.
    public static func validated(_ raw: String) -> String? {
        let bytes = Array(raw.utf8.drop { $0 == 32 || $0 == 9 }.reversed().drop { $0 == 32 || $0 == 9 }.reversed())
        guard !bytes.isEmpty, bytes.count <= maxBytes else { return nil }
        var i = 0
        func token() -> Bool {
            let start = i
            while i < bytes.count, isTokenByte(bytes[i]) { i += 1 }
            return i > start
        }
        func skipSpaces() { while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 { i += 1 } }
        guard token(), i < bytes.count, bytes[i] == UInt8(ascii: "/") else { return nil }
        i += 1
        guard token() else { return nil }
        let essence = i
        skipSpaces()
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: ";") else { return nil }
            i += 1
            skipSpaces()
            guard token(), i < bytes.count, bytes[i] == UInt8(ascii: "=") else { return nil }
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                i += 1
                var closed = false
                while i < bytes.count {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    if c == UInt8(ascii: "\\") { i += 1 }
                    guard i < bytes.count, bytes[i] >= 0x20 || bytes[i] == 9, bytes[i] != 0x7f else { return nil }
                    i += 1
                }
                guard closed else { return nil }
            } else {
                guard token() else { return nil }
            }
            skipSpaces()
        }
        return String(decoding: bytes[..<essence], as: UTF8.self).lowercased() + String(decoding: bytes[essence...], as: UTF8.self)
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    static let table: [String: String] = [
        "zip": "application/zip", "pdf": "application/pdf", "epub": "application/epub+zip",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/ogg",
        "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
        "txt": "text/plain", "csv": "text/csv", "json": "application/json", "xml": "application/xml",
        "gz": "application/gzip", "tar": "application/x-tar",
    ]

    public static func guess(filename: String) -> String {
        guard let dot = filename.lastIndex(of: ".") else { return "application/octet-stream" }
        return table[filename[filename.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
