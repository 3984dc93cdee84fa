import EgressHead

/// libFuzzer entry point: the egress guard's request-head reader must never crash, whatever a
/// client sends; a complete head stays within the limit and its forwarded head is one request
/// that ends in `Connection: close` with no CR or LF inside a line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    for limit in [ProxyRequestHead.maxHeadBytes, 64] {
        guard case .complete(let head) = ProxyRequestHead.parse(bytes, maxHeadBytes: limit) else { continue }
        precondition(head.headLength <= limit && head.headLength <= bytes.count)
        precondition((1...65535).contains(head.port) && !head.host.isEmpty)
        let forwarded = head.forwardedHead()
        if case .http = head.target {
            let text = String(decoding: forwarded, as: UTF8.self)
            precondition(text.hasSuffix("\r\nConnection: close\r\n\r\n"))
            // "\r\n" is one Character: split on it, and no line may hold a CR or LF scalar.
            let lines = text.dropLast(4).split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            precondition(lines.allSatisfy { !$0.unicodeScalars.contains("\r") && !$0.unicodeScalars.contains("\n") })
            let fields = lines.dropFirst()
            precondition(fields.filter { $0.lowercased().hasPrefix("host:") }.count == 1)
            precondition(!fields.contains { $0.lowercased().hasPrefix("proxy-") })
            // The forwarded head is not a proxy request: read again it is refused, never a second target.
            if case .complete = ProxyRequestHead.parse(forwarded) { preconditionFailure("forwarded head is a proxy request") }
        } else {
            precondition(forwarded.isEmpty)
        }
    }
    return 0
}
