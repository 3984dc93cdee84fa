import HTTPCore

/// libFuzzer entry point: the `Accept` reader must never crash, every weight it reports lies in
/// 0...1000, and the ranges it keeps read back as the same ranges.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    let accept = AcceptHeader(text)
    for type in ["text/html", "application/xml", "image/png", "x", text] {
        let q = accept.quality(of: type)
        precondition((0...1000).contains(q), "quality out of range: \(q)")
    }
    _ = accept.prefers("text/html", over: "application/xml")
    let written = accept.ranges.map { range -> String in
        let q = String(range.quality + 1000).dropFirst()  // 1000 + q: four digits, the first the integer part
        return "\(range.type)/\(range.subtype);q=\(range.quality / 1000).\(q.suffix(3))"
    }
    let again = AcceptHeader(written.joined(separator: ","))
    precondition(again.ranges == accept.ranges, "ranges do not read back: \(written)")
    return 0
}
