/// `Content-Disposition: attachment` with an ASCII fallback `filename` and, for names that
/// need it, an RFC 6266 / RFC 5987 `filename*=UTF-8''…`.
public enum ContentDisposition {
    public static func attachment(filename: String) -> String {
        let (fallback, needsExtended) = asciiFallback(filename)
        var value = "attachment; filename=\"\(fallback)\""
        if needsExtended {
            value += "; filename*=UTF-8''" + percentEncode(filename)
        }
        return value
    }

    /// `attachment; filename*=UTF-8''<percent-encoded>; filename="<ASCII fallback>"`: the
    /// extended form always, and FIRST, for clients that take whatever follows the first
    /// `filename=` (seed 003's JavaScript); `curl -J` and `wget --content-disposition` read either.
    public static func attachmentExtendedFirst(filename: String) -> String {
        "attachment; filename*=UTF-8''" + percentEncode(filename) + "; filename=\"" + asciiFallback(filename).text + "\""
    }

    /// The name with every byte a quoted ASCII `filename` cannot carry replaced by `_` (control
    /// characters dropped), and whether anything was replaced or dropped.
    static func asciiFallback(_ filename: String) -> (text: String, changed: Bool) {
        var fallback = ""
        var changed = false
        for scalar in filename.unicodeScalars {
            switch scalar.value {
            case 0x20...0x7e where scalar != "\"" && scalar != "\\" && scalar != "%" && scalar != ";":
                fallback.unicodeScalars.append(scalar)
            case 0..<0x20, 0x7f:
                changed = true
            default:
                fallback.append("_")
                changed = true
            }
        }
        if fallback.isEmpty { fallback = "download" }
        return (fallback, changed)
    }

    /// RFC 5987 attr-char stays, every other byte of the UTF-8 form becomes %XX.
    public static func percentEncode(_ text: String) -> String {
        PercentEncoding.encode(text, keeping: "!#$&+-.^_`|~")
    }
}
