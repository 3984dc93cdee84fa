import HTTPCore

/// libFuzzer entry point: JSON bodies must never crash and never nest past the limit. A body
/// that reads is an object whose strings are valid text; reading the same bytes twice gives
/// the same tree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let params = try? JSONReader.params(bytes) else { return 0 }
    precondition(params.isObject, "a JSON body reads as an object")
    precondition(depth(params) <= JSONReader.maxDepth + 1, "nesting past the limit was read")
    precondition((try? JSONReader.params(bytes)) == params, "the same body read twice differs")
    return 0
}

func depth(_ p: Params) -> Int {
    switch p {
    case .object(let members): return 1 + (members.map { depth($0.1) }.max() ?? 0)
    case .array(let items): return 1 + (items.map(depth).max() ?? 0)
    default: return 0
    }
}
