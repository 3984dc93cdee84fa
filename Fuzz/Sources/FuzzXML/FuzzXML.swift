import HTTPCore

/// libFuzzer entry point: XML bodies must parse or throw, never crash or hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if let params = try? XMLReader.params(bytes) {
        // Touch the result so the conversion is not optimised away.
        _ = params["x"]
        _ = params.elements.count
    }
    return 0
}
