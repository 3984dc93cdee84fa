import HTTPCore

/// libFuzzer entry point: multipart bodies must split or throw, never crash.
///
/// The first line of the input (up to 70 bytes, RFC 2046's limit; a trailing CR is
/// dropped) is used as the boundary, the rest as the body, so the fuzzer explores
/// both. Without a newline the whole input is the body. Parts that are read lie inside
/// the body, in order, without overlapping, at most `Multipart.maxParts` of them, and no
/// part's bytes hold a delimiter line (CRLF `--boundary`, then `--` or optional spaces and tabs
/// and CRLF): a part never swallows the next. (`CRLF--boundary` followed by anything else is
/// content, as the parser documents: FuzzMultipart found that a first version of this property
/// said otherwise; Fuzz/Corpus/FuzzMultipart/regression-boundary-prefix keeps that input.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    var boundary = "fuzzboundary"
    var body = bytes[...]
    if let newline = bytes.prefix(71).firstIndex(of: 0x0A) {
        var line = bytes[..<newline]
        if line.last == 0x0D { line = line.dropLast() }
        boundary = String(decoding: line, as: UTF8.self)
        body = bytes[(newline + 1)...]
    }
    let whole = Array(body)
    guard let parts = try? Multipart.parts(in: whole, boundary: boundary) else { return 0 }
    precondition(parts.count <= Multipart.maxParts, "\(parts.count) parts")
    let delimiter = Array("\r\n--\(boundary)".utf8)
    var end = 0
    for part in parts {
        precondition(part.bodyOffset >= end && part.bodyLength >= 0 && part.bodyOffset + part.bodyLength <= whole.count,
                     "part \(part) outside the body or overlapping")
        end = part.bodyOffset + part.bodyLength
        let content = whole[part.bodyOffset..<end]
        precondition(!holdsDelimiterLine(content, delimiter), "a part holds a delimiter line")
    }
    return 0
}

func holdsDelimiterLine(_ haystack: ArraySlice<UInt8>, _ delimiter: [UInt8]) -> Bool {
    guard haystack.count >= delimiter.count else { return false }
    var i = haystack.startIndex
    while i + delimiter.count <= haystack.endIndex {
        if haystack[i..<(i + delimiter.count)].elementsEqual(delimiter) {
            var rest = haystack[(i + delimiter.count)...]
            if rest.starts(with: [0x2D, 0x2D]) { return true }
            rest = rest.drop { $0 == 0x20 || $0 == 0x09 }
            if rest.starts(with: [0x0D, 0x0A]) { return true }
        }
        i += 1
    }
    return false
}
