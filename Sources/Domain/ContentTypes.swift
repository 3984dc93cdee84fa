/// Media type from a file name's extension, for files that arrive without one.
public enum ContentTypes {
    static let table: [String: String] = [
        "zip": "application/zip", "pdf": "application/pdf", "epub": "application/epub+zip",
        "mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg",
        "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm", "mkv": "video/x-matroska",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
        "txt": "text/plain", "csv": "text/csv", "json": "application/json", "xml": "application/xml",
        "gz": "application/gzip", "tar": "application/x-tar",
    ]

    public static func guess(filename: String) -> String {
        guard let dot = filename.lastIndex(of: ".") else { return "application/octet-stream" }
        return table[filename[filename.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
