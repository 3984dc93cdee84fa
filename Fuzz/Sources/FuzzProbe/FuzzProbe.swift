import Foundation

/// libFuzzer entry point: ffprobe's JSON reply as the prober reads it (`FFprobeReply.normalize`,
/// a symlink to Sources/Media; Foundation only). Whatever ffprobe (or a file crafted to fool it)
/// prints: the reader never crashes; it answers nil exactly when the reply holds no video, audio
/// or subtitle stream; otherwise its answer is a JSON object of the five keys, one stream per such
/// input stream in order, each of the seven keys, every number finite and every fps positive.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(UnsafeBufferPointer(start: start, count: count))
    let normalized = FFprobeReply.normalize(data)
    let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    let kinds = ((root?["streams"] as? [[String: Any]]) ?? []).compactMap { $0["codec_type"] as? String }
        .filter { ["video", "audio", "subtitle"].contains($0) }
    guard let normalized else {
        precondition(kinds.isEmpty, "a reply with streams \(kinds) read as nothing")
        return 0
    }
    guard let out = try? JSONSerialization.jsonObject(with: Data(normalized.utf8)) as? [String: Any] else {
        preconditionFailure("not a JSON object: \(normalized)")
    }
    precondition(Set(out.keys) == ["duration", "format_name", "bit_rate", "size", "streams"], normalized)
    let streams = out["streams"] as? [[String: Any]] ?? []
    precondition(streams.compactMap { $0["type"] as? String } == kinds, "streams \(streams) for \(kinds)")
    for stream in streams {
        precondition(Set(stream.keys) == ["type", "codec", "width", "height", "fps", "sample_rate", "channels"], normalized)
        if let fps = stream["fps"] as? NSNumber { precondition(fps.doubleValue > 0 && fps.doubleValue.isFinite, normalized) }
    }
    for case let number as NSNumber in streams.flatMap({ $0.values }) + Array(out.values) {
        precondition(number.doubleValue.isFinite, normalized)
    }
    return 0
}
