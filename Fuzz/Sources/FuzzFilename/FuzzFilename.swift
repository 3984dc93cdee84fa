import HTTPCore

/// libFuzzer entry point: download names as `Content-Disposition` writes them (`ContentDisposition`),
/// read back here the way a client reads RFC 6266 / RFC 8187.
///
/// For any name (the input as UTF-8): the header value is printable ASCII only (no CR, LF or other
/// control byte: no header injection, whatever the stored name holds); the quoted `filename` is the
/// ASCII fallback, which holds no quote, backslash, percent sign or semicolon, so it can neither end
/// the quoted string nor be misread as an encoding; `filename*=UTF-8''…` holds only RFC 5987
/// attr-chars and %XX escapes and decodes to exactly the name's bytes; and without it the fallback
/// is the name itself (or `download` for an empty name). Both orders (`attachment`,
/// `attachmentExtendedFirst`) say the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let name = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)

    let plain = ContentDisposition.attachment(filename: name)
    let first = ContentDisposition.attachmentExtendedFirst(filename: name)
    for value in [plain, first] {
        precondition(value.utf8.allSatisfy { (0x20...0x7E).contains($0) }, "a byte outside printable ASCII: \(value)")
    }

    // attachment; filename="F"[; filename*=UTF-8''X]
    let (fallback, rest) = quoted(after: "attachment; filename=\"", in: plain)
    let attrChars = Set("!#$&+-.^_`|~".utf8).union(48...57).union(65...90).union(97...122)
    let extended: String?
    if rest.isEmpty {
        extended = nil
    } else {
        precondition(rest.hasPrefix("; filename*=UTF-8''"), plain)
        extended = String(rest.dropFirst("; filename*=UTF-8''".count))
    }
    precondition(!fallback.isEmpty && !fallback.contains { "\"\\%;".contains($0) }, "fallback \(fallback)")
    if let extended {
        precondition(escapesOnly(extended, attrChars), "not an RFC 5987 value: \(extended)")
        precondition(PercentEncoding.decodedBytes(extended.utf8) == Array(name.utf8), "\(extended) is not \(name)")
    } else {
        precondition(fallback == name || (name.isEmpty && fallback == "download"), "\(name) sent as \(fallback)")
    }

    // attachment; filename*=UTF-8''X; filename="F": the same two parts, extended always.
    let prefix = "attachment; filename*=UTF-8''"
    precondition(first.hasPrefix(prefix), first)
    let afterPrefix = first.dropFirst(prefix.count)
    guard let semicolon = afterPrefix.firstIndex(of: ";") else { preconditionFailure(first) }
    let x = String(afterPrefix[..<semicolon])
    precondition(escapesOnly(x, attrChars) && PercentEncoding.decodedBytes(x.utf8) == Array(name.utf8), first)
    let (fallbackAgain, tail) = quoted(after: "; filename=\"", in: String(afterPrefix[semicolon...]))
    precondition(tail.isEmpty && fallbackAgain == fallback, first)
    return 0
}

/// The quoted text right after `opening` (which ends in `"`) up to the next `"`, and what follows it.
func quoted(after opening: String, in value: String) -> (String, String) {
    precondition(value.hasPrefix(opening), "\(value) does not start with \(opening)")
    let body = value.dropFirst(opening.count)
    guard let close = body.firstIndex(of: "\"") else { preconditionFailure("unterminated quote: \(value)") }
    return (String(body[..<close]), String(body[body.index(after: close)...]))
}

/// Only the given bytes and well-formed %XX escapes.
func escapesOnly(_ text: String, _ allowed: Set<UInt8>) -> Bool {
    let bytes = Array(text.utf8)
    var i = 0
    let hex = Set("0123456789ABCDEF".utf8)
    while i < bytes.count {
        if bytes[i] == UInt8(ascii: "%") {
            guard i + 2 < bytes.count, hex.contains(bytes[i + 1]), hex.contains(bytes[i + 2]) else { return false }
            i += 3
        } else {
            guard allowed.contains(bytes[i]) else { return false }
            i += 1
        }
    }
    return true
}
