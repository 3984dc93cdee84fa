import BucketStore
import Buckets
import Crypto
import Domain
import FileStores
import Foundation
import Media
import Outbound
import Store
import XCTest
@testable import worker

/// The worker's upload step (`MediaFetchHandler.uploadToBucket`, which the media fetch calls
/// before its completion) on a real SQLite store, against moto and a loopback stand-in: the
/// object lands under prefix + fetch id, the local copy goes only after a verified upload, and a
/// failure is `storage_failed` with the local copy kept.
final class BucketUploadTests: XCTestCase {
    var directory = ""
    var db: (any Database)!
    var accountID: Int64 = 0
    var sealer: SecretBoxSealer!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "worker-bucket-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        db = try Databases.open(url: "sqlite:" + directory + "/db.sqlite")
        try Schema.migrate(db)
        accountID = try AccountService(db: db).create(.init(name: "Team")).0.id
        sealer = try SecretBoxSealer(masterKeyFile: directory + "/master.key", create: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func context(sealer: (any SecretSealer)?) throws -> WorkerContext {
        let scratch = ScratchSpace(dataDirectory: directory + "/data")
        try scratch.prepare()
        let policy = AddressPolicy(allowedPrivateHosts: ["127.0.0.1"])
        let settings = WorkerSettings(
            databaseURL: "sqlite:" + directory + "/db.sqlite", leaseSeconds: 60, pollMilliseconds: 100,
            mail: MailSettings(transport: .outbox(MailOutbox(directory: directory + "/outbox")), from: "a@example.com", fromName: "A"),
            storage: try FileStores.open(url: FileStores.localURL(dataDirectory: directory + "/data")), scratch: scratch,
            fetcher: HTTPFetcher(policy: policy), prober: Prober(), webhookRetryScale: 1,
            media: MediaSettings(ytdlp: YTDLP(executable: "/nonexistent"), limits: MediaLimits(maxBytes: 1 << 30, maxDurationSeconds: 60,
                                                                                                 wallSeconds: 60),
                                 publicURL: "", fetchCap: 1, retentionDays: nil),
            sealer: sealer)
        return WorkerContext(settings: settings, db: db, queue: JobQueue(db: db))
    }

    func finishedFile(_ size: Int = 200_000) throws -> String {
        let path = directory + "/fetch-\(UUID().uuidString).mp4"
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: path))
        return path
    }

    func fetch() throws -> Fetch {
        try FetchService(db: db, storage: try FileStores.open(url: FileStores.localURL(dataDirectory: directory + "/data")))
            .create(accountID: accountID, url: "https://example.com/v", quality: .best, webhookURL: nil)
    }

    func save(endpoint: String) throws {
        try BucketService(db: db, sealer: sealer).save(accountID: accountID, BucketSettings(
            provider: .s3, bucket: "media", region: "us-east-1", endpoint: endpoint, prefix: "team/", pathStyle: true,
            accessKeyID: "AKIDEXAMPLE", secret: "secret-key-1234")) { _ in }
    }

    func testUploadsUnderThePrefixAndRemovesTheLocalCopyAfterVerification() throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        try moto.createBucket("media")
        try save(endpoint: moto.endpoint)
        let fetch = try fetch()
        let path = try finishedFile()
        let key = try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: context(sealer: sealer))
        XCTAssertEqual(key, "team/\(fetch.id).mp4")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "removed after the verified upload")
        XCTAssertTrue(try moto.curl("GET", "/media").contains("<Key>team/\(fetch.id).mp4</Key><LastModified>"))
        XCTAssertTrue(try moto.curl("GET", "/media").contains("<Size>200000</Size>"))
    }

    func testNoBucketLeavesTheFileForTheLocalStore() throws {
        let fetch = try fetch()
        let path = try finishedFile()
        XCTAssertNil(try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: context(sealer: sealer)))
        XCTAssertNil(try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: context(sealer: nil)))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func failure(_ body: () throws -> String?) -> (JobError.Retry, String, String)? {
        do { _ = try body(); return nil } catch let error as JobError {
            let reason = error.reason as? FetchFailure
            return (error.retry, reason?.code.rawValue ?? "", reason?.message ?? "")
        } catch { return nil }
    }

    func testRefusedCredentialsFailNowAndKeepTheFile() throws {
        let origin = try LoopbackOrigin(address: "127.0.0.1")
        defer { origin.stop() }
        try save(endpoint: "http://127.0.0.1:\(origin.port)")
        let fetch = try fetch()
        origin.route("/media/team/\(fetch.id).mp4", LoopbackOrigin.Reply(status: 403, body: Array(
            "<Error><Code>InvalidAccessKeyId</Code><Message>The key does not exist.</Message></Error>".utf8)))
        let path = try finishedFile()
        let context = try context(sealer: sealer)
        let got = failure { try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: context) }
        XCTAssertEqual(got?.0, .permanent)
        XCTAssertEqual(got?.1, "storage_failed")
        XCTAssertEqual(got?.2, "the file could not be uploaded to your bucket: the upload: the provider refused the credentials (HTTP 403 InvalidAccessKeyId: The key does not exist.)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "kept for a retry")
    }

    func testProviderTroubleIsTransientAndKeepsTheFile() throws {
        let origin = try LoopbackOrigin(address: "127.0.0.1")
        defer { origin.stop() }
        try save(endpoint: "http://127.0.0.1:\(origin.port)")
        let fetch = try fetch()
        origin.route("/media/team/\(fetch.id).mp4", LoopbackOrigin.Reply(status: 503, body: Array(
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>".utf8)))
        let path = try finishedFile()
        let context = try context(sealer: sealer)
        let got = failure { try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: context) }
        XCTAssertEqual(got?.0, .transient)
        XCTAssertEqual(got?.1, "storage_failed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func testSecretsThatDoNotOpenOrNoMasterKeyFailNow() throws {
        try save(endpoint: "http://127.0.0.1:9")
        let fetch = try fetch()
        let path = try finishedFile()
        let otherKey = try SecretBoxSealer(box: SecretBox(key: [UInt8](repeating: 7, count: 32)))
        let wrongKey = failure { try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: self.context(sealer: otherKey)) }
        XCTAssertEqual(wrongKey?.0, .permanent)
        XCTAssertEqual(wrongKey?.2, "your bucket's saved secrets cannot be opened; save the bucket again")
        let noKey = failure { try MediaFetchHandler.uploadToBucket(fetch: fetch, localPath: path, in: self.context(sealer: nil)) }
        XCTAssertEqual(noKey?.0, .permanent)
        XCTAssertEqual(noKey?.1, "storage_failed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }
}
