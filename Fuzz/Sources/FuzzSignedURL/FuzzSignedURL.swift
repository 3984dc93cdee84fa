import Crypto
import HTTPCore

/// libFuzzer entry point: signed download links (`URLSigner.sign`), checked the way nginx's
/// `secure_link` checks them. The app only signs; nginx verifies, with the expression
/// `nginxDirectives()` renders. So this target verifies like nginx 1.22 does: `$arg_md5` and
/// `$arg_expires` are the first `md5=` / `expires=` arguments (names in any letter case), the
/// digest is base64url of 16 bytes (unused low bits ignored, as ngx_decode_base64url does),
/// `expires` is all digits and > 0, `$uri` is the path percent-decoded (a bad escape or a NUL is
/// nginx's 400), and `$arg_name` is the raw `name=` argument.
///
/// From the input: a path under `/dl/` of storage-key characters, an expiry, a download name
/// (any text), and a position and byte for a tamper. Properties:
/// - the link verifies, and read back gives the same path, expiry and (percent-decoded) name;
/// - the link with any one byte changed either fails the check, or is the same link to nginx
///   (same `$uri`, expiry, `$arg_name` and digest bytes): no one-byte change reaches another
///   file, another expiry or another name.
let signer = URLSigner(secret: "fuzz-secret")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count >= 12 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let expires = Int64(bytes.prefix(5).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 40_000_000_000) + 1
    let at = Int(bytes[5]) << 8 | Int(bytes[6])
    let replacement = bytes[7]
    let pathLength = Int(bytes[8] % 48) + 1
    let body = bytes.dropFirst(9)
    let keyBytes = "abcdefghijklmnopqrstuvwxyz0123456789._-/".utf8.map { $0 }
    var key = body.prefix(pathLength).map { keyBytes[Int($0) % keyBytes.count] }
    // A storage key: no empty or dot-only segment, no leading or trailing slash.
    key = Array(String(decoding: key, as: UTF8.self).split(separator: "/")
        .filter { !$0.allSatisfy { $0 == "." } }.joined(separator: "/").utf8)
    if key.isEmpty { key = Array("m/x".utf8) }
    let path = "/dl/" + String(decoding: key, as: UTF8.self)
    let name = String(decoding: body.dropFirst(pathLength), as: UTF8.self)

    let link = signer.sign(path: path, expires: expires, name: name)
    guard let view = nginxView(link) else { preconditionFailure("nginx cannot read \(link)") }
    precondition(verifies(view), "a fresh link fails the check: \(link)")
    precondition(view.uri == path && view.expires == String(expires), "\(link) reads back as \(view)")
    precondition(PercentEncoding.decode(view.name) == name, "the name reads back as \(PercentEncoding.decode(view.name))")

    var tampered = Array(link.utf8)
    let index = at % tampered.count
    guard tampered[index] != replacement else { return 0 }
    tampered[index] = replacement
    let text = String(decoding: tampered, as: UTF8.self)
    // A byte that is not UTF-8 is not a link a client sends as text; nginx would see the raw byte.
    guard Array(text.utf8) == tampered, let other = nginxView(text), verifies(other) else { return 0 }
    precondition(other == view, "\(text) passes the check as \(other), signed \(view)")
    return 0
}

/// What nginx reads from a link: `$uri`, `$arg_expires`, `$arg_name`, and the digest bytes of `$arg_md5`.
struct NginxView: Equatable {
    var uri: String
    var expires: String
    var name: String
    var digest: [UInt8]
}

func nginxView(_ link: String) -> NginxView? {
    let bytes = Array(link.utf8)
    let question = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
    guard let uri = decodedURI(bytes[..<question]) else { return nil }
    let args = question < bytes.count ? Array(bytes[(question + 1)...]) : []
    guard let md5 = argument("md5", args), let expires = argument("expires", args),
          let digest = base64URLLikeNginx(md5), digest.count == 16 else { return nil }
    return NginxView(uri: uri, expires: String(decoding: expires, as: UTF8.self),
                     name: String(decoding: argument("name", args) ?? [], as: UTF8.self), digest: digest)
}

/// nginx's secure_link check of a view: expiry digits > 0, and the MD5 of the rendered expression.
func verifies(_ view: NginxView) -> Bool {
    guard !view.expires.isEmpty, view.expires.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
          let value = Int64(view.expires), value > 0 else { return false }
    let expression = view.expires + view.uri + view.name + " " + signer.secret
    return Digest.md5(Array(expression.utf8)) == view.digest
}

/// ngx_http_arg: the first `name=` that starts the arguments or follows `&`, name in any case.
func argument(_ name: String, _ args: [UInt8]) -> [UInt8]? {
    let wanted = Array(name.utf8)
    for field in args.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
        guard field.count > wanted.count, field[field.startIndex + wanted.count] == UInt8(ascii: "=") else { continue }
        if zip(field.prefix(wanted.count), wanted).allSatisfy({ lower($0) == $1 }) {
            return Array(field.dropFirst(wanted.count + 1))
        }
    }
    return nil
}

func lower(_ c: UInt8) -> UInt8 { (65...90).contains(c) ? c + 32 : c }

/// `$uri`: %XX decoded; a bad escape or a NUL is a 400 (nil). Paths signed here have no dot
/// segments or double slashes, and one changed byte cannot make a path that normalises to one.
func decodedURI(_ path: ArraySlice<UInt8>) -> String? {
    var out: [UInt8] = []
    var i = path.startIndex
    func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
    while i < path.endIndex {
        if path[i] == UInt8(ascii: "%") {
            guard i + 2 < path.endIndex, let h = hex(path[i + 1]), let l = hex(path[i + 2]) else { return nil }
            out.append(h << 4 | l)
            i += 3
        } else {
            out.append(path[i])
            i += 1
        }
    }
    guard !out.contains(0), out.first == UInt8(ascii: "/") else { return nil }
    let segments = out.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
    guard !segments.contains(where: { $0.isEmpty || $0.elementsEqual(".".utf8) || $0.elementsEqual("..".utf8) }) else {
        return nil  // would be normalised: not a link this target makes, and never the same $uri
    }
    return String(decoding: out, as: UTF8.self)
}

/// ngx_decode_base64url: URL-safe alphabet up to the first byte outside it (which must be the
/// end), length not 1 mod 4, and the unused low bits of the last character ignored.
func base64URLLikeNginx(_ text: [UInt8]) -> [UInt8]? {
    func value(_ c: UInt8) -> UInt32? {
        switch c {
        case 65...90: return UInt32(c - 65)
        case 97...122: return UInt32(c - 71)
        case 48...57: return UInt32(c + 4)
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
    guard text.count <= 24, text.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    var n: UInt32 = 0
    var bits = 0
    for c in text {
        guard let v = value(c) else { return nil }
        n = n << 6 | v
        bits += 6
        if bits >= 8 {
            bits -= 8
            out.append(UInt8(truncatingIfNeeded: n >> UInt32(bits)))
            n &= (1 << UInt32(bits)) - 1
        }
    }
    return out
}
