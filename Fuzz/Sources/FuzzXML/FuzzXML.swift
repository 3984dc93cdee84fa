import HTTPCore

/// libFuzzer entry point: XML bodies must parse or throw, never crash or hang. A body that reads
/// reads the same twice and nests no deeper than the limit; the same body behind a DOCTYPE (an
/// internal subset with an entity: the billion-laughs shape) is always refused, so no entity is
/// ever declared, let alone expanded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if let params = try? XMLReader.params(bytes) {
        precondition((try? XMLReader.params(bytes)) == params, "the same body read twice differs")
        precondition(depth(params) <= XMLReader.maxDepth + 1, "nesting past the limit was read")
    }
    for doctype in ["<!DOCTYPE a [<!ENTITY b \"c\">]>", "<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"file:///etc/passwd\">"] {
        precondition((try? XMLReader.params(Array(doctype.utf8) + bytes)) == nil, "a DOCTYPE was accepted")
    }
    return 0
}

func depth(_ p: Params) -> Int {
    switch p {
    case .object(let members): return 1 + (members.map { depth($0.1) }.max() ?? 0)
    case .array(let items): return 1 + (items.map(depth).max() ?? 0)
    default: return 0
    }
}
