import HTTPCore

/// libFuzzer entry point: form bodies (Rails-style nested keys) must never crash, and a
/// body is read whole or refused. The first byte picks a pair limit from 1 to 64, so the
/// edge of the limit is crossed by small inputs at full speed (`make fuzz` also seeds
/// bodies at the real 20,000): `parseBody` fails exactly when the rest holds more than
/// that many non-empty pairs, and otherwise equals the query reading of it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let all = Array(UnsafeBufferPointer(start: start, count: count))
    let limit = all.count > 20_000 ? FormParser.maxPairs : Int(all[0] & 63) + 1
    let bytes = all.count > 20_000 ? all : Array(all.dropFirst())
    let params = FormParser.parse(bytes, limit: limit)
    _ = params["x"]
    _ = params.elements.count
    let pairs = bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).count
    do {
        let whole = try FormParser.parseBody(bytes, limit: limit)
        precondition(pairs <= limit, "parseBody took \(pairs) pairs over a limit of \(limit)")
        precondition(whole == params, "parseBody and parse disagree below the limit")
    } catch {
        precondition(pairs > limit, "parseBody refused \(pairs) pairs under a limit of \(limit)")
    }
    return 0
}
