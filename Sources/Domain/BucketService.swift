import Store

/// An account's own storage ("bring your own bucket"): finished fetches are uploaded there and
/// handed out as presigned links. S3-compatible providers (`s3`, `gcs`, `oss`) use bucket,
/// region, endpoint and an access key pair; `blob` (Azure) uses the storage account, a
/// container and either the account key or a SAS. Secrets are plain only in memory.
public struct BucketSettings: Equatable, Sendable {
    public enum Provider: String, CaseIterable, Sendable { case s3, gcs, oss, blob }

    public var provider: Provider
    /// The bucket (S3, GCS, OSS) or the container (Azure).
    public var bucket: String
    public var region: String
    /// Base URL of the service, `http(s)://host[:port]`; nil: the provider's own.
    public var endpoint: String?
    /// Put before every object key (`team/`); "" for none.
    public var prefix: String
    public var pathStyle: Bool
    /// The access key id (S3, GCS, OSS) or the storage account's name (Azure).
    public var accessKeyID: String
    /// The secret access key (S3, GCS, OSS) or the account key (Azure); nil for Azure with a SAS.
    public var secret: String?
    /// Azure only: a SAS token instead of the account key.
    public var sas: String?

    public init(provider: Provider, bucket: String, region: String = "", endpoint: String? = nil, prefix: String = "",
                pathStyle: Bool = false, accessKeyID: String, secret: String?, sas: String? = nil) {
        self.provider = provider
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self.prefix = prefix
        self.pathStyle = pathStyle
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.sas = sas
    }

    /// The object key of a fetch's file: the prefix, the fetch's id, its extension.
    public func objectKey(fetchID: String, ext: String) -> String { prefix + fetchID + (ext.isEmpty ? "" : "." + ext) }
}

/// What a reply may show of a saved bucket: everything but the secrets, which are masked to
/// their last 4 characters.
public struct BucketView: Equatable, Sendable {
    public let provider: BucketSettings.Provider
    public let bucket: String
    public let region: String
    public let endpoint: String?
    public let prefix: String
    public let pathStyle: Bool
    public let accessKeyID: String
    public let secretMasked: String?
    public let sasMasked: String?
    public let createdAt: Int64

    /// `****WXYZ`; a secret of 8 characters or fewer shows nothing of itself.
    public static func mask(_ secret: String?) -> String? {
        guard let secret else { return nil }
        return secret.count > 8 ? "****" + secret.suffix(4) : "****"
    }
}

/// Seals secrets before they reach the database and opens them after (AES-256-GCM under the
/// master key file); injected so the domain needs no cipher of its own.
public protocol SecretSealer: Sendable {
    func seal(_ plaintext: String) -> String
    func open(_ sealed: String) throws -> String
}

/// Saves, reads and removes each account's bucket. A bucket is saved only after a probe
/// succeeded (the caller's: it writes and deletes a small object with the given settings).
public struct BucketService {
    let db: any Database
    let sealer: any SecretSealer
    let clock: Clock

    public init(db: any Database, sealer: any SecretSealer, clock: Clock = .system) {
        self.db = db
        self.sealer = sealer
        self.clock = clock
    }

    /// Checks the settings' shape (`DomainError.invalid` naming the field), runs `probe` (no
    /// transaction is open meanwhile), then replaces the account's bucket with these settings.
    @discardableResult
    public func save(accountID: Int64, _ settings: BucketSettings, probe: (BucketSettings) throws -> Void) throws -> BucketView {
        try BucketService.validate(settings)
        try probe(settings)
        let now = clock.now()
        try db.write {
            _ = try db.execute("DELETE FROM buckets WHERE account_id = ?", [accountID])
            _ = try db.insert("""
                INSERT INTO buckets (account_id, provider, bucket, region, endpoint, prefix, path_style, access_key_id,
                                     secret_sealed, account_name, container, sas_sealed, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """, [accountID, settings.provider.rawValue,
                      settings.provider == .blob ? nil : settings.bucket, settings.region, settings.endpoint, settings.prefix,
                      settings.pathStyle, settings.provider == .blob ? nil : settings.accessKeyID,
                      settings.secret.map(sealer.seal), settings.provider == .blob ? settings.accessKeyID : nil,
                      settings.provider == .blob ? settings.bucket : nil, settings.sas.map(sealer.seal), now])
        }
        return BucketService.view(settings, createdAt: now)
    }

    /// The account's bucket with its secrets opened (for uploads and links); nil when it has none.
    /// A secret that does not open (another master key) throws.
    public func settings(accountID: Int64) throws -> BucketSettings? {
        guard let row = try db.queryOne("""
            SELECT provider, bucket, region, endpoint, prefix, path_style, access_key_id, secret_sealed, account_name, container,
                   sas_sealed FROM buckets WHERE account_id = ?
            """, [accountID]) else { return nil }
        let provider = BucketSettings.Provider(rawValue: row.string("provider") ?? "") ?? .s3
        let blob = provider == .blob
        return BucketSettings(provider: provider, bucket: (blob ? row.string("container") : row.string("bucket")) ?? "",
                              region: row.string("region") ?? "", endpoint: row.string("endpoint"), prefix: row.string("prefix") ?? "",
                              pathStyle: row.bool("path_style"),
                              accessKeyID: (blob ? row.string("account_name") : row.string("access_key_id")) ?? "",
                              secret: try row.string("secret_sealed").map(sealer.open), sas: try row.string("sas_sealed").map(sealer.open))
    }

    /// Whether the account has a bucket (its secrets left sealed).
    public func hasBucket(accountID: Int64) throws -> Bool {
        try db.queryOne("SELECT 1 AS one FROM buckets WHERE account_id = ?", [accountID]) != nil
    }

    /// What a reply may show of the account's bucket; nil when it has none.
    public func view(accountID: Int64) throws -> BucketView? {
        guard let settings = try settings(accountID: accountID) else { return nil }
        let created = try db.queryOne("SELECT created_at FROM buckets WHERE account_id = ?", [accountID])?.int("created_at") ?? 0
        return BucketService.view(settings, createdAt: created)
    }

    /// Removes the account's bucket if it is of `provider`; false when there was none such.
    /// Objects already uploaded stay where they are.
    @discardableResult
    public func delete(accountID: Int64, provider: BucketSettings.Provider) throws -> Bool {
        try db.write { try db.execute("DELETE FROM buckets WHERE account_id = ? AND provider = ?", [accountID, provider.rawValue]) } > 0
    }

    static func view(_ settings: BucketSettings, createdAt: Int64) -> BucketView {
        BucketView(provider: settings.provider, bucket: settings.bucket, region: settings.region, endpoint: settings.endpoint,
                   prefix: settings.prefix, pathStyle: settings.pathStyle, accessKeyID: settings.accessKeyID,
                   secretMasked: BucketView.mask(settings.secret), sasMasked: BucketView.mask(settings.sas), createdAt: createdAt)
    }

    /// The shape of each field (the endpoint's address is the SSRF rule's, checked by the probe).
    public static func validate(_ s: BucketSettings) throws {
        func invalid(_ message: String) -> DomainError { .invalid(message) }
        func printable(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f } }
        let name = s.provider == .blob ? "container" : "bucket"
        let nameChars = s.bucket.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
            || (s.provider != .blob && (("A"..."Z").contains($0) || $0 == "_")) }
        guard (3...63).contains(s.bucket.count), nameChars else {
            throw invalid("\(name) must be 3 to 63 letters, digits, dots or hyphens")
        }
        guard !s.accessKeyID.isEmpty, s.accessKeyID.count <= 256, printable(s.accessKeyID) else {
            throw invalid(s.provider == .blob ? "account_name is required" : "access_key_id is required")
        }
        if s.provider == .blob {
            guard (3...24).contains(s.accessKeyID.count),
                  s.accessKeyID.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
                throw invalid("account_name must be 3 to 24 lowercase letters or digits")
            }
            guard (s.secret == nil) != (s.sas == nil) else { throw invalid("give either account_key or sas_token") }
        } else {
            guard s.sas == nil else { throw invalid("sas_token is for blob storage only") }
            guard let secret = s.secret, !secret.isEmpty else { throw invalid("secret_access_key is required") }
        }
        for secret in [s.secret, s.sas].compactMap({ $0 }) where secret.isEmpty || secret.count > 4096 || !printable(secret) {
            throw invalid("secrets are 1 to 4096 printable characters")
        }
        guard s.region.count <= 64, s.region.isEmpty || s.region.unicodeScalars.allSatisfy({
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }) else {
            throw invalid("region must be lowercase letters, digits and hyphens")
        }
        if s.provider == .oss && s.region.isEmpty && s.endpoint == nil { throw invalid("region is required for oss") }
        if let endpoint = s.endpoint {
            let lower = endpoint.lowercased()
            guard endpoint.count <= 2048, printable(endpoint), lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
                throw invalid("endpoint must be an http(s) URL")
            }
        }
        guard s.prefix.count <= 512, !s.prefix.hasPrefix("/"), !s.prefix.split(separator: "/").contains(".."),
              s.prefix.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            throw invalid("prefix must be at most 512 characters, not start with / and hold no ..")
        }
    }
}
