import Crypto

/// libFuzzer entry point: any text given as a secrets file parses or throws, never crashes; what
/// parses renders to a text that parses back to the same secrets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    if let secrets = try? SharedSecrets.parse(text) {
        precondition((try? SharedSecrets.parse(secrets.render())) == secrets)
    }
    return 0
}
