import Foundation
import Media

/// A finished download whose upload to the account's bucket failed for now: kept in the job's
/// directory with what yt-dlp and ffprobe said of it (`kept.json`), so the job's next attempt
/// uploads it again instead of fetching the media a second time. Read back only when every file
/// it names is still a regular file of the recorded size inside the directory.
struct KeptDownload: Codable, Equatable {
    struct Sidecar: Codable, Equatable {
        var file: String
        var language: String
        var ext: String
        var sizeBytes: Int64
    }

    static let fileName = "kept.json"

    /// The media's file name inside the directory.
    var file: String
    var title: String?
    var ext: String
    var extractor: String?
    var durationSeconds: Double?
    var sizeBytes: Int64
    var sidecars: [Sidecar]
    var ffprobe: String?

    init(_ result: MediaDownloadResult, ffprobe: String?) {
        file = (result.path as NSString).lastPathComponent
        title = result.title
        ext = result.ext
        extractor = result.extractor
        durationSeconds = result.durationSeconds
        sizeBytes = result.sizeBytes
        sidecars = result.sidecars.map {
            Sidecar(file: ($0.path as NSString).lastPathComponent, language: $0.language, ext: $0.ext, sizeBytes: $0.sizeBytes)
        }
        self.ffprobe = ffprobe
    }

    /// Written atomically beside the files it names.
    func save(in directory: String) throws {
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: directory + "/" + KeptDownload.fileName), options: .atomic)
    }

    /// The kept download of `directory` as the runner would have returned it, and its ffprobe
    /// JSON; nil when there is none or any of its files is missing, replaced or of another size.
    static func load(from directory: String) -> (result: MediaDownloadResult, ffprobe: String?)? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + fileName),
              let kept = try? JSONDecoder().decode(KeptDownload.self, from: data) else { return nil }
        func path(_ name: String, size: Int64) -> String? {
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { return nil }
            var info = stat()
            let path = directory + "/" + name
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, Int64(info.st_size) == size else { return nil }
            return path
        }
        guard let media = path(kept.file, size: kept.sizeBytes) else { return nil }
        var sidecars: [MediaSidecar] = []
        for sidecar in kept.sidecars {
            guard let file = path(sidecar.file, size: sidecar.sizeBytes) else { return nil }
            sidecars.append(MediaSidecar(path: file, language: sidecar.language, ext: sidecar.ext, sizeBytes: sidecar.sizeBytes))
        }
        return (MediaDownloadResult(path: media, title: kept.title, ext: kept.ext, extractor: kept.extractor,
                                    durationSeconds: kept.durationSeconds, sizeBytes: kept.sizeBytes, sidecars: sidecars),
                kept.ffprobe)
    }
}
