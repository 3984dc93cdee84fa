import Foundation
import Support

/// Runs ffprobe on a local file, safely: only the `file` protocol, only media container
/// demuxers (no playlists, no concat, no image sequences), a time limit, bounded output.
/// A file that is not media yields a `Failure`, never a crash.
public struct Prober: Sendable {
    public var ffprobe: String
    public var timeoutSeconds: Double

    public init(ffprobe: String = "ffprobe", timeoutSeconds: Double = 60) {
        self.ffprobe = ffprobe
        self.timeoutSeconds = timeoutSeconds
    }

    /// Demuxers allowed to open a file. hls, dash, concat, image2 and friends are not here.
    public static let formatWhitelist = [
        "mov", "mp4", "m4a", "3gp", "matroska", "webm", "mp3", "wav", "flac", "ogg", "aac", "avi", "mpegts",
        "flv", "asf", "mpeg", "aiff", "amr", "ac3", "eac3", "dts", "truehd", "h264", "hevc", "mjpeg",
        "png_pipe", "jpeg_pipe", "gif", "webp_pipe", "w64", "caf",
    ].joined(separator: ",")

    public struct Outcome: Equatable, Sendable {
        /// Normalised JSON (duration, format_name, bit_rate, size, streams…), nil when not media.
        public var json: String?
        /// Why there is no JSON; nil when there is.
        public var failure: Failure?
    }

    /// Why a probe gave no JSON. `kind` is for replies; `detail` (ffprobe's own last line of
    /// stderr, which names the probed path) is for the log only.
    public struct Failure: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: Equatable, Sendable {
            /// ffprobe ran and found no media it may read (unknown format, or no stream).
            case notMedia
            /// ffprobe ran longer than the time limit and was killed.
            case timeout
            /// ffprobe could not be started.
            case failed
            /// The caller asked to stop, and ffprobe was killed.
            case stopped
        }
        public var kind: Kind
        public var detail: String
        public var description: String { detail }
    }

    /// `shouldStop` is asked while ffprobe runs: true kills it (a job that lost its lease).
    public func probe(path: String, shouldStop: () -> Bool = { false }) -> Outcome {
        let scratch = NSTemporaryDirectory() + "ffprobe-\(UUID().uuidString)"
        defer {
            unlink(scratch + ".out")
            unlink(scratch + ".err")
        }
        let argv = [ffprobe, "-v", "error", "-hide_banner", "-print_format", "json", "-show_format", "-show_streams",
                    "-protocol_whitelist", "file", "-format_whitelist", Prober.formatWhitelist, "-i", "file:" + path]
        let status: Int32
        do {
            status = try Subprocess.run(argv, stdout: scratch + ".out", stderr: scratch + ".err", timeoutSeconds: timeoutSeconds,
                                        shouldStop: shouldStop)
        } catch {
            return Outcome(json: nil, failure: Failure(kind: .failed, detail: "ffprobe could not run: \(error)"))
        }
        let errText = Subprocess.readCapped(scratch + ".err", limit: 4096).trimmingCharacters(in: .whitespacesAndNewlines)
        if status == Subprocess.stopped {
            return Outcome(json: nil, failure: Failure(kind: .stopped, detail: "ffprobe was stopped on \(path)"))
        }
        if status == Subprocess.timedOut {
            return Outcome(json: nil, failure: Failure(kind: .timeout, detail: "ffprobe timed out after \(Int(timeoutSeconds)) s on \(path)"))
        }
        guard status == 0 else {
            let reason = errText.isEmpty ? "ffprobe exited with status \(status) on \(path)" : Prober.lastLine(errText)
            return Outcome(json: nil, failure: Failure(kind: .notMedia, detail: reason))
        }
        let output = Subprocess.readCapped(scratch + ".out", limit: 4 << 20)
        guard let normalized = Prober.normalize(ffprobeJSON: Data(output.utf8)) else {
            return Outcome(json: nil, failure: Failure(kind: .notMedia, detail: "ffprobe found no audio, video or subtitle stream in \(path)"))
        }
        return Outcome(json: normalized, failure: nil)
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map { String($0).replacingOccurrences(of: "file:", with: "") } ?? text
    }

    /// ffprobe's JSON, normalised (`FFprobeReply.normalize`).
    public static func normalize(ffprobeJSON data: Data) -> String? { FFprobeReply.normalize(data) }

    /// A frame rate as ffprobe writes it (`FFprobeReply.rate`).
    static func rate(_ value: Any?) -> NSNumber? { FFprobeReply.rate(value) }
}
