import HTTPCore

/// libFuzzer entry point: the Range reader that predicts nginx's range filter (`ByteRanges`,
/// used by `StaticReply` before a counted download is taken), against a second reading written
/// here another way: the header split at every comma, each piece matched whole against the
/// grammar nginx 1.22 accepts (`N-M`, `N-`, `-N`, spaces around numbers and the dash, none
/// between a suffix's dash and its number), read left to right as nginx does (the first piece
/// that is not a range makes the header unsatisfiable, an empty range at 0 means the whole file).
///
/// The first 8 bytes of the input are the file's size (masked to 0...2^40), the rest the header
/// after `bytes=`. Properties: both readings agree; the `bytes=` prefix is read in any letter
/// case; another unit is the whole file; `If-Range` that does not match the ETag makes it whole.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count >= 8 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let size = Int64(bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & ((1 << 40) - 1))
    let spec = Array(bytes.dropFirst(8))
    let header = String(decoding: spec, as: UTF8.self)
    // The reader sees the header as text: invalid UTF-8 reaches it as U+FFFD, so the model reads that too.
    let seen = Array(header.utf8)

    let verdict = ByteRanges.verdict(range: "bytes=" + header, size: size)
    let expected = reference(seen, size: size)
    precondition(verdict == expected, "bytes=\(header) of \(size): read \(verdict), nginx \(expected)")
    precondition(ByteRanges.verdict(range: "BYTES=" + header, size: size) == verdict, "the unit is case-sensitive")
    precondition(ByteRanges.verdict(range: "items=" + header, size: size) == .whole, "another unit was read")
    let etag = "\"5f-\(String(size, radix: 16))\""
    precondition(ByteRanges.verdict(range: "bytes=" + header, ifRange: etag, size: size, etag: etag) == verdict)
    if header.utf8.count >= 1 {
        precondition(ByteRanges.verdict(range: "bytes=" + header, ifRange: "\"other\"", size: size, etag: etag) == .whole,
                     "a mismatched If-Range still selected ranges")
    }
    return 0
}

/// nginx's reading, piece by piece. A header shorter than `bytes=` plus one byte is not a range.
func reference(_ spec: [UInt8], size: Int64) -> ByteRanges.Verdict {
    if spec.isEmpty { return .whole }
    var found = 0
    for piece in spec.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
        guard let (first, last) = range(piece) else { return .unsatisfiable }
        let startByte: Int64, stopByte: Int64
        switch (first, last) {
        case (nil, let n?):  // -N: the last N bytes
            startByte = n < size ? size - n : 0
            stopByte = size
        case (let f?, nil):  // N-: to the end
            startByte = f
            stopByte = size
        case (let f?, let l?):
            startByte = f
            stopByte = l >= size ? size : l + 1
        default:
            return .unsatisfiable
        }
        if startByte < stopByte {
            found += 1
        } else if startByte == 0 {
            return .whole
        }
    }
    return found == 0 ? .unsatisfiable : .partial
}

/// One piece: ` *N *- *M? *` or ` *-M *`; nil when it is neither or a number passes Int64.
/// The outer optional is the match, the inner ones the numbers.
func range(_ piece: ArraySlice<UInt8>) -> (Int64?, Int64?)? {
    var p = piece.drop { $0 == 32 }
    while p.last == 32 { p = p.dropLast() }
    func digits(_ s: ArraySlice<UInt8>) -> Int64?? {
        guard !s.isEmpty, s.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var v: Int64 = 0
        for c in s {
            let (a, o1) = v.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return .some(nil) }
            v = b
        }
        return .some(v)
    }
    guard let dash = p.firstIndex(of: UInt8(ascii: "-")) else { return nil }
    var left = p[..<dash]
    while left.last == 32 { left = left.dropLast() }
    let right = p[(dash + 1)...]
    if left.isEmpty {
        // A suffix: digits right after the dash.
        guard let n = digits(right) else { return nil }
        guard let n else { return nil }
        return (nil, n)
    }
    guard let f = digits(left), let f else { return nil }
    let rest = right.drop { $0 == 32 }
    if rest.isEmpty { return (f, nil) }
    guard let l = digits(rest), let l else { return nil }
    return (f, l)
}
