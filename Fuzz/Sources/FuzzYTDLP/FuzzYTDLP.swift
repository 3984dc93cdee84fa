import Foundation

/// libFuzzer entry point: yt-dlp's output as the runner reads it — lines cut from a growing
/// file, the runner's progress and --print lines, the download tally, ERROR lines classified
/// with local paths removed, -J metadata, playlists, clip bounds — must never crash, and keep their bounds.
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
    // A playlist: only http(s) URLs, at most the limit, titles bounded.
    if let entries = YTDLPPlaylist.entries(Data(bytes), requestedURL: "http://h/", limit: 3) {
        precondition(entries.count <= 3, "more entries than the limit")
        for entry in entries {
            let lowered = entry.url.lowercased()
            precondition(lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), "a non-http entry")
            precondition(!entry.url.contains("#__youtubedl_smuggle="), "smuggled data left in")
            precondition((entry.title?.count ?? 0) <= YTDLPPlaylist.maxTitleCharacters)
        }
    }
    // Clip bounds from the first 16 bytes: digits, one dot each, "inf", nothing else.
    if bytes.count >= 16 {
        let bits = bytes.prefix(16).withUnsafeBytes { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        let clip = MediaClip(start: Double(bitPattern: bits.0), end: bytes[0] & 1 == 0 ? Double(bitPattern: bits.1) : nil)
        if let section = clip.section {
            precondition(section.hasPrefix("*") && section.dropFirst().allSatisfy { "0123456789.-inf".contains($0) }, section)
        }
    }
    return 0
}
