import Buckets
import Crypto
import Domain
import Foundation
import Outbound
import Store

/// Domain's `SecretSealer` as AES-256-GCM under the master key (`SecretBox`), bound to the
/// purpose "bucket-secret" (associated data): a sealed bucket secret opens as nothing else.
public struct SecretBoxSealer: SecretSealer {
    let box: SecretBox
    static let context = "bucket-secret"

    public init(box: SecretBox) { self.box = box }

    /// The sealer under the master key file at `path` (created, 32 random bytes, mode 0600, when `create`).
    public init(masterKeyFile path: String, create: Bool = false) throws {
        box = try SecretBox(key: MasterKey.load(path: path, create: create))
    }

    /// The sealer under a master key already read (the nodes' shared secrets file).
    public init(masterKey: [UInt8]) throws { box = try SecretBox(key: masterKey) }

    public func seal(_ plaintext: String) -> String { box.seal(plaintext, context: SecretBoxSealer.context) }
    public func open(_ sealed: String) throws -> String { try box.open(sealed, context: SecretBoxSealer.context) }
}

/// The client for saved settings: S3 as given, GCS and OSS through their presets, Azure by key or SAS.
public enum BucketClients {
    public static func client(_ s: BucketSettings, policy: AddressPolicy) -> any BucketClient {
        switch s.provider {
        case .s3:
            return S3Client(endpoint: s.endpoint ?? S3Client.awsEndpoint(region: s.region.isEmpty ? "us-east-1" : s.region),
                            region: s.region.isEmpty ? "us-east-1" : s.region, bucket: s.bucket, accessKeyID: s.accessKeyID,
                            secret: s.secret ?? "", pathStyle: s.pathStyle, policy: policy)
        case .gcs:
            return S3Client.gcs(bucket: s.bucket, accessKeyID: s.accessKeyID, secret: s.secret ?? "",
                                region: s.region.isEmpty ? "auto" : s.region, endpoint: s.endpoint ?? "https://storage.googleapis.com",
                                policy: policy)
        case .oss:
            return S3Client.oss(bucket: s.bucket, region: s.region, accessKeyID: s.accessKeyID, secret: s.secret ?? "",
                                endpoint: s.endpoint, policy: policy)
        case .blob:
            let credential: AzureBlobClient.Credential = s.sas.map { .sas($0) } ?? .sharedKey(s.secret ?? "")
            return AzureBlobClient(account: s.accessKeyID, container: s.bucket, credential: credential, endpoint: s.endpoint,
                                   policy: policy)
        }
    }
}

/// Each account's own bucket, for a dialect (presigned links, deleting an uploaded file,
/// checking settings before they are saved) and for the worker (uploading a finished file).
/// Built on one connection (a dialect thread's, the worker's).
public struct AccountBuckets {
    public let service: BucketService
    public let policy: AddressPolicy
    /// Lifetime of presigned links (at most 7 days).
    public let linkSeconds: Int64
    /// Makes the client for settings (tests shrink multipart thresholds through it).
    let makeClient: (BucketSettings, AddressPolicy) -> any BucketClient

    public init(db: any Database, sealer: any SecretSealer, policy: AddressPolicy, linkSeconds: Int64 = 3600,
                clock: Clock = .system,
                client: @escaping (BucketSettings, AddressPolicy) -> any BucketClient = BucketClients.client) {
        service = BucketService(db: db, sealer: sealer, clock: clock)
        self.policy = policy
        self.linkSeconds = min(max(linkSeconds, 1), SigV4.maxExpirySeconds)
        makeClient = client
    }

    public func client(_ settings: BucketSettings) -> any BucketClient { makeClient(settings, policy) }

    /// Writes and deletes a small object with `settings` (under its prefix): throws `BucketError`
    /// saying what the provider answered, or why it was not asked (a refused endpoint).
    public func probe(_ settings: BucketSettings) throws {
        try client(settings).probe(prefix: settings.prefix)
    }

    /// A presigned GET of an uploaded file (named `filename` when downloaded); nil when the
    /// account has no bucket now.
    public func presignedURL(accountID: Int64, objectKey: String, filename: String, contentType: String) throws -> String? {
        guard let settings = try service.settings(accountID: accountID) else { return nil }
        return try client(settings).presignedGET(key: objectKey, filename: filename, contentType: contentType,
                                                 expires: linkSeconds, now: Int64(Date().timeIntervalSince1970))
    }

    /// Deletes an uploaded file from the account's bucket; false when the account has no bucket now.
    @discardableResult
    public func deleteObject(accountID: Int64, objectKey: String) throws -> Bool {
        guard let settings = try service.settings(accountID: accountID) else { return false }
        try client(settings).delete(key: objectKey)
        return true
    }

    /// Uploads a finished fetch's file to the account's bucket under `prefix + fetchID.ext`,
    /// verified (size, and the ETag where meaningful); nil when the account has no bucket.
    /// The local file is left where it is: the caller removes it once the upload is recorded.
    public func upload(accountID: Int64, fetchID: String, ext: String, localPath: String, contentType: String,
                       shouldStop: @escaping () -> Bool = { false }) throws -> StoredObject? {
        guard let settings = try service.settings(accountID: accountID) else { return nil }
        return try client(settings).put(localPath: localPath, key: settings.objectKey(fetchID: fetchID, ext: ext),
                                        contentType: contentType, shouldStop: shouldStop)
    }
}
