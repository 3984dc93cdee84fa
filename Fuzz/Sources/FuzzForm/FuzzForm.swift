import HTTPCore

/// libFuzzer entry point: form bodies (Rails-style nested keys) must never crash, and a
/// body is read whole or refused: `parseBody` fails exactly when the input holds more
/// than `maxPairs` non-empty pairs, and otherwise equals the query reading of it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let params = FormParser.parse(bytes)
    _ = params["x"]
    _ = params.elements.count
    let pairs = bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).count
    do {
        let whole = try FormParser.parseBody(bytes)
        precondition(pairs <= FormParser.maxPairs, "parseBody took \(pairs) pairs")
        precondition(whole == params, "parseBody and parse disagree below the limit")
    } catch {
        precondition(pairs > FormParser.maxPairs, "parseBody refused \(pairs) pairs")
    }
    return 0
}
