import Crypto

/// libFuzzer entry point: any text given as a sealed secret opens or throws, never crashes; a
/// text that opens must be the one sealed text of the fuzzer's own round trip (the tag holds).
private let box = try! SecretBox(key: (0..<32).map { UInt8($0) })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    if let opened = try? box.open(text, context: "bucket-secret") {
        // Only a real seal of this key opens: sealing what came out must open to it again.
        precondition((try? box.open(box.seal(opened, context: "bucket-secret"), context: "bucket-secret")) == opened)
    }
    // And the round trip of the input as a plaintext.
    precondition((try? box.open(box.seal(text, context: "x"), context: "x")) == text)
    return 0
}
