/// libFuzzer entry point: storage URLs (`s3://…`) and credentials files must never crash the
/// reader; an accepted URL names a valid bucket, a prefix that is "" or ends in `/` with only key
/// characters, and an http(s) endpoint; accepted keys are both non-empty.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    if let location = try? S3Location(url: text) {
        precondition((3...63).contains(location.bucket.count))
        precondition(location.prefix.isEmpty || location.prefix.hasSuffix("/"))
        precondition(!location.prefix.contains("//") && !location.prefix.hasPrefix("/"))
        precondition(location.prefix.unicodeScalars.allSatisfy { S3Location.isKeyScalar($0) || $0 == "/" })
        precondition(location.endpoint.map { $0.hasPrefix("http://") || $0.hasPrefix("https://") } ?? true)
        precondition(!location.region.isEmpty)
    }
    if let keys = try? S3Location.credentials(text: text) {
        precondition(!keys.accessKeyID.isEmpty && !keys.secret.isEmpty)
        precondition(!keys.accessKeyID.contains("\n") && !keys.secret.contains("\n"))
    }
    return 0
}
