import Domain
import HTTPCore
#if canImport(Glibc)
import Glibc
#endif

/// Stored files on local disk, in one directory (`data/files`) that nginx reads by `alias`:
/// the internal location `/_files/` (customer links, `X-Accel-Redirect`) and the signed
/// location `/dl/` (`secure_link`, links handed to clients). A put is one `rename` from scratch
/// space on the same filesystem.
public struct LocalDiskStore: FileStore {
    public let directory: String
    /// Signs `/dl/` links; nil in a process that hands out none.
    let signer: URLSigner?

    /// The nginx locations that serve `directory` (see nginx/fetchgate.conf.in).
    static let internalLocation = "/_files/"
    static let signedLocation = "/dl/"

    public init(directory: String, signingSecret: String? = nil) {
        self.directory = directory
        signer = signingSecret.map { URLSigner(secret: $0) }
    }

    /// Creates the directory (and its parents) if missing.
    public func prepare() throws { try ScratchSpace.makeDirectories(directory) }

    public func path(forKey key: String) -> String { directory + "/" + key }

    public func put(temporaryPath: String, key: String) throws {
        let destination = path(forKey: key)
        if let slash = destination.lastIndex(of: "/") {
            try ScratchSpace.makeDirectories(String(destination[..<slash]))
        }
        guard rename(temporaryPath, destination) == 0 else {
            throw StorageError(description: "cannot store file: \(String(cString: strerror(errno)))")
        }
    }

    public func remove(key: String) throws {
        guard unlink(path(forKey: key)) == 0 || errno == ENOENT else {
            throw StorageError(description: "cannot remove \(key): \(String(cString: strerror(errno)))")
        }
    }

    public func attributes(key: String) throws -> (size: Int64, modified: Int64)? {
        var info = stat()
        guard stat(path(forKey: key), &info) == 0 else { return nil }
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec))
    }

    public func delivery(key: String, filename: String, contentType: String, route: DeliveryRoute) throws -> FileDelivery {
        switch route {
        case .behindReply, .wholeBehindReply:
            // nginx judges Range and conditions on the file itself, as the dialect did.
            return .internalPath(LocalDiskStore.internalLocation + key)
        case .link(let expires):
            guard let signer else { throw StorageError(description: "signed links need the signing secret") }
            return .signedPath(signer.sign(path: LocalDiskStore.signedLocation + key, expires: expires, name: filename))
        }
    }

    public func withLocalFile<T>(key: String, _ body: (String) throws -> T) throws -> T {
        try body(path(forKey: key))
    }

    /// The directory exists and this process may write in it.
    public func check() throws {
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, access(directory, W_OK | X_OK) == 0 else {
            throw StorageError(description: "the file directory \(directory) is missing or not writable")
        }
    }
}
