#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// Local scratch space for bytes on their way into a `FileStore`: upload copies, URL imports.
/// It is `tmp/` in the data directory, on local disk whatever the store is, and on the same
/// filesystem as a local store's files, so putting a finished file there is one rename.
public struct ScratchSpace: Sendable {
    public let directory: String

    public init(dataDirectory: String) { directory = dataDirectory + "/tmp" }

    /// Creates the directory (and its parents) if missing.
    public func prepare() throws { try ScratchSpace.makeDirectories(directory) }

    /// A fresh path to write an arriving file into.
    public func temporaryPath() -> String { path(named: "up-" + Digest.randomToken(length: 20)) }

    /// A path of a name the caller derives (a job's, so a re-run overwrites it).
    public func path(named name: String) -> String { directory + "/" + name }

    /// Size of a local file; nil when it cannot be read.
    public static func size(ofPath path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// `mkdir -p` with mode 0750.
    public static func makeDirectories(_ path: String) throws {
        var directory = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            directory += "/" + component
            if mkdir(directory, 0o750) != 0 && errno != EEXIST {
                throw StorageError(description: "cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
    }
}
