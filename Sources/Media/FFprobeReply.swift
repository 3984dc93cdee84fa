import Foundation

/// ffprobe's `-print_format json -show_format -show_streams` reply as `Prober` reads it: Foundation
/// only, so the fuzzer (Fuzz/Sources/FuzzProbe) builds this very file.
public enum FFprobeReply {
    /// ffprobe's JSON → `{duration, format_name, bit_rate, size, streams: [{type, codec, width,
    /// height, fps, sample_rate, channels}]}` with numbers as numbers. nil when there is no stream.
    public static func normalize(_ data: Data) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let format = root["format"] as? [String: Any] ?? [:]
        let streams = (root["streams"] as? [[String: Any]] ?? []).compactMap { stream -> [String: Any]? in
            guard let type = stream["codec_type"] as? String, type == "video" || type == "audio" || type == "subtitle" else { return nil }
            var out: [String: Any] = ["type": type, "codec": stream["codec_name"] as? String ?? NSNull()]
            out["width"] = number(stream["width"]) ?? NSNull()
            out["height"] = number(stream["height"]) ?? NSNull()
            let fps: NSNumber? = type == "video" ? (rate(stream["avg_frame_rate"]) ?? rate(stream["r_frame_rate"])) : nil
            out["fps"] = fps ?? NSNull()
            out["sample_rate"] = number(stream["sample_rate"]) ?? NSNull()
            out["channels"] = number(stream["channels"]) ?? NSNull()
            return out
        }
        guard !streams.isEmpty else { return nil }
        let result: [String: Any] = [
            "duration": number(format["duration"]) ?? NSNull(),
            "format_name": format["format_name"] as? String ?? NSNull(),
            "bit_rate": number(format["bit_rate"]) ?? NSNull(),
            "size": number(format["size"]) ?? NSNull(),
            "streams": streams,
        ]
        guard let json = try? JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]) else { return nil }
        return String(decoding: json, as: UTF8.self)
    }

    /// A JSON number or a numeric string → NSNumber (integers stay integers).
    static func number(_ value: Any?) -> NSNumber? {
        if let n = value as? NSNumber { return n.doubleValue.isFinite ? n : nil }
        guard let s = value as? String else { return nil }
        if let i = Int64(s) { return NSNumber(value: i) }
        if let d = Double(s), d.isFinite { return NSNumber(value: d) }
        return nil
    }

    /// "30000/1001" → 29.97 (rounded to 3 places); "0/0" → nil.
    static func rate(_ value: Any?) -> NSNumber? {
        guard let s = value as? String else { return nil }
        let parts = s.split(separator: "/")
        guard parts.count == 2, let n = Double(parts[0]), let d = Double(parts[1]), d > 0, n > 0 else { return nil }
        // A finite rate only: 1e308/1e-308 is infinite, and one infinite number made the whole reply
        // unwritable as JSON, so a file with streams read as one without (FuzzProbe).
        let fps = (n / d * 1000).rounded() / 1000
        return fps.isFinite && fps > 0 ? NSNumber(value: fps) : nil
    }
}
