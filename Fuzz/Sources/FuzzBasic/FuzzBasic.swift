import HTTPCore

/// libFuzzer entry point: the `Authorization: Basic` reader (`Credentials.basic`).
///
/// - Whatever the header, it reads as nil or as a key and a token that are both non-empty, the key
///   without a colon; and what it read is exactly what the header's base64 says: encoding
///   `key:token` again gives base64 text the header holds, which reads back the same.
/// - The round trip: the input split at its first 0xFF byte into a key and a token (the key's
///   colons dropped) and sent as `Basic base64(key:token)` reads back as that key and token,
///   with the scheme in any letter case and with spaces around the base64; as UTF-8 only, since
///   a header that is not UTF-8 is refused.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let text = String(decoding: bytes, as: UTF8.self)

    for header in [text, "Basic " + text] {
        guard case let .keyAndToken(key, token)? = Credentials.basic(header) else { continue }
        precondition(!key.isEmpty && !token.isEmpty, "an empty key or token was read")
        precondition(!key.unicodeScalars.contains(":"), "the key holds a colon: the split was not at the first one")
        // What was read is what the header's base64 says (strict base64: one text per byte string).
        precondition(header.contains(Base64.encode(Array("\(key):\(token)".utf8), padding: false)),
                     "read \(key):\(token) from \(header)")
        precondition(Credentials.basic("Basic " + Base64.encode(Array("\(key):\(token)".utf8))) == .keyAndToken(key: key, token: token))
    }

    let cut = bytes.firstIndex(of: 0xFF) ?? bytes.count / 2
    let key = String(decoding: bytes[..<cut], as: UTF8.self).replacingColons()
    let token = String(decoding: bytes[min(cut + 1, bytes.count)...], as: UTF8.self)
    let encoded = Base64.encode(Array("\(key):\(token)".utf8))
    let schemes = ["Basic", "basic", "BASIC", "bAsIc"]
    let scheme = schemes[bytes.count % schemes.count]
    for header in ["\(scheme) \(encoded)", "\(scheme) \(encoded)  ", "\(scheme)  \(encoded)"] {
        let read = Credentials.basic(header)
        if key.isEmpty || token.isEmpty {
            precondition(read == nil, "an empty key or token was accepted: \(header)")
        } else {
            precondition(read == .keyAndToken(key: key, token: token), "\(header) read as \(String(describing: read))")
        }
    }
    // Another scheme, or none, is never Basic.
    precondition(Credentials.basic("Bearer \(encoded)") == nil && Credentials.basic(encoded) == nil)
    return 0
}

extension String {
    func replacingColons() -> String { String(unicodeScalars.filter { $0 != ":" }.map(Character.init)) }
}
