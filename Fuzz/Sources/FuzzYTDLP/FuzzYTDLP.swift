import Foundation

/// libFuzzer entry point: yt-dlp's output as the runner reads it — lines cut from a growing
/// file, the runner's progress and --print lines, the download tally, ERROR lines classified
/// with local paths removed, -J metadata — must never crash, and keep their bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    var buffer = LineBuffer()
    var tally = YTDLPTally()
    // Fed in two pieces, as a file read while it grows would give them.
    let cut = bytes.count / 3
    for piece in [bytes[..<cut], bytes[cut...]] {
        _ = buffer.feed(piece) { line in
            switch YTDLPOutput.parse(line: line, marker: "fgm") {
            case let .download(status, b, total, estimate, speed, eta):
                let report = tally.progress(status: status, bytes: b, total: total, estimate: estimate, speed: speed, eta: eta)
                if let p = report.percent { precondition(p >= 0 && p <= 100, "percent out of range") }
                precondition(tally.bytesSoFar >= 0)
            case .postprocess(_, let name):
                _ = YTDLPOutput.step(postprocessor: name)
            case .info, .file, .other:
                break
            }
            return true
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    let error = YTDLPErrors.classify(output: text, exitStatus: 1, hiddenPaths: ["/tmp/job 7"])
    precondition(!error.message.contains("/tmp/job 7"), "a hidden path is left in the message")
    precondition(error.message.count <= 401)
    _ = YTDLPMetadata.normalize(Data(bytes))
    return 0
}
