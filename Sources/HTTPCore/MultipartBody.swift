#if canImport(Glibc)
import Glibc
#endif

/// A multipart request body located by offsets: the file nginx buffered (only inside the
/// directory it buffers to), or — without nginx in front — the in-memory body written to a
/// scratch file. Parts are copied out in the kernel, never read into memory.
public struct MultipartBody {
    public struct Error: Swift.Error, Equatable, Sendable {
        public let message: String
        public init(_ message: String) { self.message = message }
    }

    public let path: String
    public let parts: [Multipart.Part]
    private let ownsFile: Bool

    /// Opens the body of `request`. `scratchPath` names a new file for an in-memory body.
    public static func open(_ request: Request, bodyDirectory: String, scratchPath: String) throws(Error) -> MultipartBody {
        guard request.contentType == "multipart/form-data" else {
            throw Error("Expected Content-Type multipart/form-data")
        }
        guard let boundary = Multipart.boundary(fromContentType: request.header("content-type") ?? "") else {
            throw Error("Malformed multipart: missing boundary")
        }
        var path: String
        var owns = false
        if let file = request.bodyFile {
            guard BodyFile.isInside(file, bodyDirectory) else { throw Error("Upload body is not where the web server buffers uploads") }
            path = file
        } else {
            path = scratchPath
            guard BodyFile.write(request.body, to: path) else { throw Error("Cannot buffer the upload") }
            owns = true
        }
        do {
            return MultipartBody(path: path, parts: try Multipart.parts(inFileAt: path, boundary: boundary), ownsFile: owns)
        } catch {
            if owns { unlink(path) }
            throw Error("Malformed multipart: " + error.message)
        }
    }

    /// Removes the scratch copy, if this body made one (nginx removes its own files).
    public func close() {
        if ownsFile { unlink(path) }
    }

    /// Parts that carry a file (have a filename).
    public var fileParts: [Multipart.Part] { parts.filter { $0.filename != nil } }

    /// A small text field's value (at most 64 KiB), trimmed.
    public func field(_ name: String) -> String? {
        guard let part = parts.first(where: { $0.name == name && $0.filename == nil }), part.bodyLength <= 65536 else { return nil }
        return BodyFile.read(path, offset: part.bodyOffset, length: part.bodyLength)
            .map { String(decoding: $0, as: UTF8.self).trimmingWhitespace }
    }

    /// Copies a part's bytes into a new file at `destination` (kernel copy).
    public func copy(_ part: Multipart.Part, to destination: String) throws {
        try Multipart.copyRange(fromFile: path, offset: part.bodyOffset, length: part.bodyLength, toFile: destination)
    }
}

/// Small helpers for request bodies that live in files.
public enum BodyFile {
    /// True when `path` resolves to a file inside `directory`.
    public static func isInside(_ path: String, _ directory: String) -> Bool {
        guard let real = realpath(path, nil), let dir = realpath(directory, nil) else { return false }
        defer { free(real); free(dir) }
        return String(cString: real).hasPrefix(String(cString: dir) + "/")
    }

    /// Why a buffered body could not be taken in: over the limit (413), or not readable at
    /// all (400: missing, outside the body directory, or a failed read).
    public enum ReadError: Error, Equatable, Sendable {
        case tooLarge
        case unreadable
    }

    /// The whole file if it lies inside `directory` and has at most `limit` bytes.
    public static func readSmall(_ path: String, limit: Int, inside directory: String) throws(ReadError) -> [UInt8] {
        guard isInside(path, directory) else { throw .unreadable }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable }
        guard Int(info.st_size) <= limit else { throw .tooLarge }
        guard let bytes = read(path, offset: 0, length: Int(info.st_size)) else { throw .unreadable }
        return bytes
    }

    public static func read(_ path: String, offset: Int, length: Int) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset + done)) }
            guard n > 0 else { return nil }
            done += n
        }
        return bytes
    }

    /// Writes `bytes` to a new file (fails if it exists).
    public static func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { unlink(path); return false }
            written += n
        }
        return true
    }
}
