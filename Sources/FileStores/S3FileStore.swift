import Buckets
import Crypto
import Domain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import HTTPCore
import Outbound
import Synchronization

/// Stored files in an S3-compatible bucket of the operator's (`s3://bucket/prefix?endpoint=&region=`),
/// over `Buckets.S3Client`: a put uploads the finished temp file (multipart for big files, its
/// size and ETag verified) and deletes it; links handed to clients are presigned GETs that name
/// the download; a reply that stands for the file (counted customer links, the downloader)
/// hands nginx the internal location `/_s3/`, which proxies the presigned URL (see
/// `FileStores.nginxLocations`), so the client never sees the bucket.
///
/// The endpoint is the operator's own, not a user's: it may be on loopback or a private
/// network, so its host alone is allowed past the address policy's private-address rule.
public struct S3FileStore: FileStore {
    public let client: S3Client
    /// Prepended to every key (`files/`), "" for the bucket's root.
    public let prefix: String
    /// Where `withLocalFile` puts its copies.
    let scratch: ScratchSpace
    /// When the last write probe succeeded (Unix seconds), shared by the copies of this store.
    private let lastGoodProbe = ProbeTime()

    /// A health check within this many seconds of a good probe answers without writing again:
    /// a load balancer asking every second costs the bucket one PUT and DELETE per half minute.
    public static let probeSeconds: Int64 = 30

    /// The internal nginx location that proxies presigned URLs (`/_s3/` + the object's path and query).
    public static let internalLocation = "/_s3"
    /// The same for a reply that sends the whole file: the client's Range is not passed on.
    public static let wholeLocation = "/_s3whole"
    /// How long the presigned URL behind an internal path lives: nginx asks for it at once.
    static let internalSeconds: Int64 = 300

    public init(client: S3Client, prefix: String, scratch: ScratchSpace) {
        self.client = client
        self.prefix = prefix
        self.scratch = scratch
    }

    func objectKey(_ key: String) -> String { prefix + key }

    public func put(temporaryPath: String, key: String) throws {
        do {
            _ = try client.put(localPath: temporaryPath, key: objectKey(key), contentType: "application/octet-stream")
        } catch {
            throw StorageError(description: "cannot store \(key) in the bucket: \(error)")
        }
        _ = unlink(temporaryPath)
    }

    public func remove(key: String) throws {
        do { try client.delete(key: objectKey(key)) } catch {
            throw StorageError(description: "cannot remove \(key) from the bucket: \(error)")
        }
    }

    public func attributes(key: String) throws -> (size: Int64, modified: Int64)? {
        do {
            return try client.look(key: objectKey(key)).map { ($0.object.size, $0.modified) }
        } catch {
            throw StorageError(description: "cannot look at \(key) in the bucket: \(error)")
        }
    }

    public func delivery(key: String, filename: String, contentType: String, route: DeliveryRoute) throws -> FileDelivery {
        let now = Int64(Date().timeIntervalSince1970)
        switch route {
        case .link(let expires):
            return .presignedURL(try presigned(key, filename: filename, contentType: contentType,
                                               seconds: min(max(1, expires - now), SigV4.maxExpirySeconds), now: now))
        case .behindReply, .wholeBehindReply:
            let url = try presigned(key, filename: filename, contentType: contentType, seconds: S3FileStore.internalSeconds, now: now)
            let location = route == .wholeBehindReply ? S3FileStore.wholeLocation : S3FileStore.internalLocation
            return .internalPath(location + S3FileStore.pathAndQuery(of: url))
        }
    }

    func presigned(_ key: String, filename: String, contentType: String, seconds: Int64, now: Int64) throws -> String {
        do {
            return try client.presignedGET(key: objectKey(key), filename: filename, contentType: contentType, expires: seconds, now: now)
        } catch {
            throw StorageError(description: "cannot sign a link to \(key): \(error)")
        }
    }

    /// `/bucket/key?query` of `scheme://authority/bucket/key?query`.
    static func pathAndQuery(of url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let slash = url[scheme.upperBound...].firstIndex(of: "/") else { return "/" }
        return String(url[slash...])
    }

    /// A copy in scratch space, fetched by a presigned GET and checked against the object's size.
    public func withLocalFile<T>(key: String, _ body: (String) throws -> T) throws -> T {
        try scratch.prepare()
        let path = scratch.path(named: "s3-" + Digest.randomToken(length: 20))
        defer { _ = unlink(path) }
        do {
            guard let size = try client.head(key: objectKey(key))?.size else {
                throw StorageError(description: "\(key) is not in the bucket")
            }
            let url = try client.presignedGET(key: objectKey(key), filename: "file", contentType: "application/octet-stream",
                                              expires: S3FileStore.internalSeconds)
            let fetched = try HTTPFetcher(policy: client.policy, limits: FetchLimits(maxBytes: max(size, 1), maxRedirects: 0))
                .download(url, to: path)
            guard fetched.sizeBytes == size else {
                throw StorageError(description: "the copy of \(key) holds \(fetched.sizeBytes) bytes, the object \(size)")
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(description: "cannot copy \(key) from the bucket: \(error)")
        }
        return try body(path)
    }

    /// The bucket answers: a small object is written and deleted under the prefix (at most once
    /// per `probeSeconds` while it keeps answering).
    public func check() throws {
        let now = Int64(Date().timeIntervalSince1970)
        if let last = lastGoodProbe.value.withLock({ $0 }), now - last < S3FileStore.probeSeconds { return }
        do { try client.probe(prefix: prefix) } catch {
            lastGoodProbe.value.withLock { $0 = nil }
            throw StorageError(description: "the bucket does not answer: \(error)")
        }
        lastGoodProbe.value.withLock { $0 = now }
    }
}

/// The time of a store's last good probe, one box for every copy of the store value.
private final class ProbeTime: Sendable {
    let value = Mutex<Int64?>(nil)
}
