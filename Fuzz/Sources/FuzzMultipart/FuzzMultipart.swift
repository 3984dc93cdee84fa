import HTTPCore

/// libFuzzer entry point: multipart bodies must split or throw, never crash.
///
/// The first line of the input (up to 70 bytes, RFC 2046's limit; a trailing CR is
/// dropped) is used as the boundary, the rest as the body, so the fuzzer explores
/// both. Without a newline the whole input is the body. Parts that are read lie inside
/// the body, in order, without overlapping, at most `Multipart.maxParts` of them, and no
/// part's bytes hold the delimiter (CRLF, `--`, the boundary): a part never swallows the next.
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
        precondition(!contains(content, delimiter), "a part holds the delimiter")
    }
    return 0
}

func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    var i = haystack.startIndex
    while i + needle.count <= haystack.endIndex {
        if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
    }
    return false
}
