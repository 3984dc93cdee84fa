import HTTPCore

/// libFuzzer entry point: multipart bodies must split or throw, never crash.
///
/// The first line of the input (up to 70 bytes, RFC 2046's limit; a trailing CR is
/// dropped) is used as the boundary, the rest as the body, so the fuzzer explores
/// both. Without a newline the whole input is the body.
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
    _ = try? Multipart.parts(in: Array(body), boundary: boundary)
    return 0
}
