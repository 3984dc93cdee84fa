/// Where the bytes of stored files live, whatever holds them: local disk now
/// (`FileStores.LocalDiskStore`, which nginx reads by `alias`), S3-compatible or Azure buckets
/// later, behind the same calls. Keys are the domain's: `/`-separated segments of letters,
/// digits, `.`, `_` and `-` (`ab/cdef…`, `m/file_….mp4`).
///
/// Bytes arrive through local scratch space (`ScratchSpace`): a finished temp file is put under
/// its key in one step, whatever the store.
public protocol FileStore: Sendable {
    /// Stores a finished local temp file under `key`, atomically: a reader finds the whole file
    /// or none, and a file already under the key is replaced. The temp file is gone afterwards;
    /// when this throws it may still be there, and is the caller's to remove.
    func put(temporaryPath: String, key: String) throws
    /// Removes the bytes under `key`; a missing key is not an error.
    func remove(key: String) throws
    /// Size and modification time (Unix seconds) of the bytes under `key` as the server that
    /// sends them sees them (they predict its 304, 412 and 416); nil when there are none.
    func attributes(key: String) throws -> (size: Int64, modified: Int64)?
    /// How a reply hands the bytes under `key` to a client. `filename` and `contentType` are
    /// the download's, for a store whose links carry them.
    func delivery(key: String, filename: String, contentType: String, route: DeliveryRoute) throws -> FileDelivery
    /// Runs `body` with a path on this machine to the bytes under `key`, for tools such as
    /// ffprobe: a local store's own file; a bucket store's copy in scratch space, removed after.
    func withLocalFile<T>(key: String, _ body: (String) throws -> T) throws -> T
    /// Throws when the store cannot take files now (health checks): a local directory that is
    /// missing or not writable, a bucket that does not answer or refuses a small write.
    func check() throws
}

/// How the reply to a download should hand over the bytes; the dialect's choice.
public enum DeliveryRoute: Equatable, Sendable {
    /// The reply stands for the file (a counted, stable link): the front server sends the bytes
    /// behind it, or the client is sent on to them.
    case behindReply
    /// As `behindReply`, for a request the dialect judged to get the whole file (it carries no
    /// Range that applies): the front server sends every byte, whatever Range the client sent.
    case wholeBehindReply
    /// The reply gives the client a link of its own, good until `expires` (Unix seconds).
    case link(expires: Int64)
}

/// The store's answer: one of three ways the bytes reach the client. Every dialect handles all
/// three, so a new store needs no change in any dialect.
public enum FileDelivery: Equatable, Sendable {
    /// The front server sends the bytes from this internal location: `X-Accel-Redirect`.
    case internalPath(String)
    /// The front server sends the bytes from this path and query, which it checks itself
    /// (`secure_link`): redirect the client there, on the server's public base URL.
    case signedPath(String)
    /// Another host sends the bytes: redirect the client to this absolute, presigned URL.
    case presignedURL(String)

    /// Where a client is redirected (`base` is the public base URL of the front server); nil
    /// for an internal path, which is no place a client can go.
    public func location(base: String) -> String? {
        switch self {
        case .internalPath: return nil
        case .signedPath(let path): return base + path
        case .presignedURL(let url): return url
        }
    }
}

/// A store could not do what was asked (a full disk, a refused request, a missing setting).
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}
