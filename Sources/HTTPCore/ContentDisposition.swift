/// `Content-Disposition: attachment` with an ASCII fallback `filename` and, for names that
/// need it, an RFC 6266 / RFC 5987 `filename*=UTF-8''…`.
public enum ContentDisposition {
    public static func attachment(filename: String) -> String {
        var fallback = ""
        var needsExtended = false
        for scalar in filename.unicodeScalars {
            switch scalar.value {
            case 0x20...0x7e where scalar != "\"" && scalar != "\\" && scalar != "%" && scalar != ";":
                fallback.unicodeScalars.append(scalar)
            case 0..<0x20, 0x7f:
                needsExtended = true
            default:
                fallback.append("_")
                needsExtended = true
            }
        }
        if fallback.isEmpty { fallback = "download" }
        var value = "attachment; filename=\"\(fallback)\""
        if needsExtended {
            value += "; filename*=UTF-8''" + percentEncode(filename)
        }
        return value
    }

    /// RFC 5987 attr-char stays, every other byte of the UTF-8 form becomes %XX.
    public static func percentEncode(_ text: String) -> String {
        PercentEncoding.encode(text, keeping: "!#$&+-.^_`|~")
    }
}
