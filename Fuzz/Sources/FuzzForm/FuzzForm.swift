import HTTPCore

/// libFuzzer entry point: form bodies (Rails-style nested keys) must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let params = FormParser.parse(bytes)
    _ = params["x"]
    _ = params.elements.count
    return 0
}
