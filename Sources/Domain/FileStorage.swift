#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// Local file storage under one data directory. Files are published atomically:
/// bytes go to a temp file in `tmp/`, then `rename` moves them under `files/`.
/// nginx serves the bytes straight from `files/` (signed URL or X-Accel-Redirect).
public struct FileStorage: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var filesDirectory: String { root + "/files" }
    public var tempDirectory: String { root + "/tmp" }

    public struct StorageError: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Creates `files/` and `tmp/` if missing.
    public func prepare() throws {
        for dir in [root, filesDirectory, tempDirectory] {
            if mkdir(dir, 0o750) != 0 && errno != EEXIST {
                throw StorageError(description: "cannot create \(dir): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A fresh path in `tmp/` to write into before publishing.
    public func temporaryPath() -> String {
        tempDirectory + "/up-" + Digest.randomToken(length: 20)
    }

    /// A fresh storage key such as `ab/cdefgh…`, spread over 1024 directories.
    public func newKey() -> String {
        let token = Digest.randomToken(length: 26)
        return String(token.prefix(2)) + "/" + String(token.dropFirst(2))
    }

    public func path(forKey key: String) -> String { filesDirectory + "/" + key }

    /// Moves a finished temp file to its key (same filesystem: one rename).
    public func publish(temporaryPath: String, key: String) throws {
        let destination = path(forKey: key)
        let directory = String(destination[..<destination.lastIndex(of: "/")!])
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            throw StorageError(description: "cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        guard rename(temporaryPath, destination) == 0 else {
            throw StorageError(description: "cannot publish file: \(String(cString: strerror(errno)))")
        }
    }

    /// Removes a stored file; a missing file is not an error.
    public func remove(key: String) {
        unlink(path(forKey: key))
    }

    /// Size and modification time (Unix seconds) of a stored file, as nginx sees them.
    public func attributes(key: String) -> (size: Int64, modified: Int64)? {
        var info = stat()
        guard stat(path(forKey: key), &info) == 0 else { return nil }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec))
    }

    public func size(ofPath path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
