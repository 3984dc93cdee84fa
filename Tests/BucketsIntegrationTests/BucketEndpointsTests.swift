import BucketEndpoints
import BucketStore
import Crypto
import Dialect
import Domain
import Foundation
import HTTPCore
import Outbound
import Store
import Support
import XCTest
@testable import Buckets

/// A tiny JSON dialect that registers only the bucket routes, as the jobs dialect will.
final class BucketTestApp: App {
    typealias Wire = JSONWire
    static let name = "bucket-test"
    static let options = BucketEndpoints.options
    let context: AppContext
    let buckets: AccountBuckets

    init(_ context: AppContext) throws {
        self.context = context
        guard let path = context.host.arguments["master-key-file"] else { throw OptionError("--master-key-file is required") }
        buckets = AccountBuckets(db: context.db, sealer: try SecretBoxSealer(masterKeyFile: path),
                                 policy: AddressPolicy(allowedPrivateHosts: context.host.allowedPrivateHosts))
    }

    static let routes: Routes<BucketTestApp> = {
        var r = Routes<BucketTestApp>()
        BucketEndpoints.register(&r) { $0.buckets }
        return r
    }()
}

/// `/user/…` in-process (App.handle, no socket) against moto on loopback; the SSRF rule with a
/// loopback listener that records whether it was reached.
final class BucketEndpointsTests: XCTestCase {
    var directory = ""
    var moto: MotoServer!
    var apiKey = ""
    var accountID: Int64 = 0
    var context: AppContext!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "bucketapp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data/tmp/body", withIntermediateDirectories: true)
        _ = try MasterKey.load(path: directory + "/master.key", create: true)
        moto = try MotoServer()
        try moto.createBucket("media")
    }

    override func tearDown() {
        moto?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func app(allowPrivate: Bool) throws -> BucketTestApp {
        var arguments = ["--socket", directory + "/app.sock", "--database", directory + "/store.sqlite", "--data", directory + "/data",
                         "--master-key-file", directory + "/master.key"]
        if allowPrivate { arguments += ["--allow-private-hosts", "127.0.0.1"] }
        let host = try HostSettings(Arguments(arguments))
        context = try AppContext(host: host)
        try Schema.migrate(context.db)
        if apiKey.isEmpty {
            let created = try context.accounts.create(.init(name: "Team"), apiKey: "teamkey", token: "teamtoken")
            apiKey = created.token
            accountID = created.0.id
        }
        return try BucketTestApp(context)
    }

    func post(_ app: BucketTestApp, _ path: String, _ body: [String: Any], key: String? = nil) throws -> (Int, [String: Any]) {
        let data = try JSONSerialization.data(withJSONObject: body)
        let response = app.handle(Request(method: "POST", path: path, rawQuery: "",
                                          headers: ["content-type": "application/json", "x-api-key": key ?? apiKey], body: Array(data)))
        return (response.status, try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:])
    }

    func delete(_ app: BucketTestApp, _ path: String) throws -> (Int, [String: Any]) {
        let response = app.handle(Request(method: "DELETE", path: path, rawQuery: "", headers: ["x-api-key": apiKey], body: []))
        return (response.status, try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:])
    }

    var s3Body: [String: Any] {
        ["bucket": "media", "region": "us-east-1", "endpoint": moto.endpoint, "access_key_id": "AKIDEXAMPLE",
         "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "prefix": "team/", "path_style": true]
    }

    func testSaveProbesAndNeverReturnsTheSecret() throws {
        let app = try app(allowPrivate: true)
        let (status, json) = try post(app, "/user/s3", s3Body)
        XCTAssertEqual(status, 200, "\(json)")
        XCTAssertEqual(json["provider"] as? String, "s3")
        XCTAssertEqual(json["secret_access_key"] as? String, "****EKEY")
        XCTAssertEqual(json["access_key_id"] as? String, "AKIDEXAMPLE")
        XCTAssertEqual(json["path_style"] as? Bool, true)
        XCTAssertEqual(json["prefix"] as? String, "team/")
        XCTAssertFalse(try moto.curl("GET", "/media").contains("<Key>"), "the probe's object was deleted")
        // At rest: sealed with AES-256-GCM under the master key, never in plain.
        let row = try XCTUnwrap(try context.db.queryOne("SELECT secret_sealed FROM buckets WHERE account_id = ?", [accountID]))
        let sealed = try XCTUnwrap(row.string("secret_sealed"))
        XCTAssertTrue(sealed.hasPrefix("v1:"))
        XCTAssertFalse(sealed.contains("EXAMPLEKEY"))
        let box = try SecretBox(key: MasterKey.load(path: directory + "/master.key", create: false))
        XCTAssertEqual(try box.open(sealed, context: "bucket-secret"), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        // The legacy alias saves an s3 bucket too; DELETE removes it, a second DELETE is 404.
        XCTAssertEqual(try post(app, "/user/bucket", s3Body).0, 200)
        XCTAssertEqual(try delete(app, "/user/gcs").0, 404)
        let (deleted, body) = try delete(app, "/user/bucket")
        XCTAssertEqual(deleted, 200)
        XCTAssertEqual(body["deleted"] as? Bool, true)
        XCTAssertEqual(try delete(app, "/user/s3").0, 404)
    }

    func testAFailedProbeNamesTheAnswerAndSavesNothing() throws {
        let app = try app(allowPrivate: true)
        var body = s3Body
        body["bucket"] = "missing-bucket"
        let (status, json) = try post(app, "/user/s3", body)
        XCTAssertEqual(status, 400)
        let error = json["error"] as? [String: Any]
        XCTAssertEqual(error?["code"] as? String, "no_such_bucket")
        XCTAssertTrue((error?["message"] as? String)?.contains("HTTP 404 NoSuchBucket") == true, "\(json)")
        XCTAssertEqual(try context.db.queryOne("SELECT COUNT(*) AS n FROM buckets")?.int("n"), 0)
    }

    func testAPrivateEndpointIsRefusedAndNeverContacted() throws {
        let origin = try LoopbackOrigin(address: "127.0.0.1")
        defer { origin.stop() }
        let app = try app(allowPrivate: false)
        var body = s3Body
        body["endpoint"] = "http://127.0.0.1:\(origin.port)"
        let (status, json) = try post(app, "/user/s3", body)
        XCTAssertEqual(status, 400)
        XCTAssertEqual((json["error"] as? [String: Any])?["code"] as? String, "refused_endpoint")
        body["endpoint"] = "http://localhost:\(origin.port)"
        XCTAssertEqual(try post(app, "/user/s3", body).0, 400)
        XCTAssertEqual(origin.connections, 0)
        XCTAssertEqual(try context.db.queryOne("SELECT COUNT(*) AS n FROM buckets")?.int("n"), 0)
    }

    func testInputIsCheckedBeforeAnyRequestAndCredentialsAreRequired() throws {
        let app = try app(allowPrivate: true)
        let (status, json) = try post(app, "/user/blob", ["account_name": "fetchgatemedia", "container": "media",
                                                          "account_key": "a2V5", "sas_token": "sig=x"])
        XCTAssertEqual(status, 400)
        XCTAssertEqual((json["error"] as? [String: Any])?["message"] as? String, "give either account_key or sas_token")
        var body = s3Body
        body["path_style"] = "maybe"
        XCTAssertEqual(try post(app, "/user/s3", body).0, 400)
        XCTAssertEqual(try post(app, "/user/s3", s3Body, key: "wrong").0, 401)
        XCTAssertEqual(try context.db.queryOne("SELECT COUNT(*) AS n FROM buckets")?.int("n"), 0)
    }

    /// The worker's path (AccountBuckets.upload) and the jobs dialect's (presignedURL, deleteObject).
    func testUploadUnderThePrefixLinkAndDelete() throws {
        let app = try app(allowPrivate: true)
        XCTAssertNil(try app.buckets.upload(accountID: accountID, fetchID: "f1", ext: "mp4", localPath: "/nonexistent",
                                            contentType: "video/mp4"), "no bucket: nothing to do")
        XCTAssertNil(try app.buckets.presignedURL(accountID: accountID, objectKey: "k", filename: "k", contentType: "video/mp4"))
        XCTAssertEqual(try post(app, "/user/s3", s3Body).0, 200)
        let path = try randomFile(size: 300_000)
        let stored = try XCTUnwrap(try app.buckets.upload(accountID: accountID, fetchID: "3f1c9a2e", ext: "mp4", localPath: path,
                                                          contentType: "video/mp4"))
        XCTAssertEqual(stored.key, "team/3f1c9a2e.mp4")
        XCTAssertEqual(stored.size, 300_000)
        let url = try XCTUnwrap(try app.buckets.presignedURL(accountID: accountID, objectKey: stored.key, filename: "My clip.mp4",
                                                             contentType: "video/mp4"))
        XCTAssertTrue(url.hasPrefix(moto.endpoint + "/media/team/3f1c9a2e.mp4?response-content-disposition=attachment%3B%20filename%3D%22My%20clip.mp4%22&"), url)
        XCTAssertTrue(url.contains("&X-Amz-Expires=3600&"), url)
        let fetched = try runProgram(["/usr/bin/curl", "-sS", "--noproxy", "*", "-o", path + ".got", url])
        XCTAssertEqual(fetched.status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path + ".got")), try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertTrue(try app.buckets.deleteObject(accountID: accountID, objectKey: stored.key))
        XCTAssertFalse(try moto.curl("GET", "/media").contains("<Key>"))
    }

    /// A secret that went wrong after saving (rotated at the provider): the upload fails as the
    /// provider answered, not transient (the worker fails the fetch `storage_failed`, local file kept).
    func testAWrongSecretAfterSavingFailsTheUploadFinally() throws {
        let origin = try LoopbackOrigin(address: "127.0.0.1")
        defer { origin.stop() }
        let app = try app(allowPrivate: true)
        let settings = BucketSettings(provider: .s3, bucket: "media", region: "us-east-1", endpoint: "http://127.0.0.1:\(origin.port)",
                                      prefix: "team/", pathStyle: true, accessKeyID: "AKIDEXAMPLE", secret: "rotated-at-the-provider")
        try app.buckets.service.save(accountID: accountID, settings) { _ in }
        let xml = "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>"
        origin.route("/media/team/f1.mp4", LoopbackOrigin.Reply(status: 403, body: Array(xml.utf8)))
        let path = try randomFile(size: 1000)
        XCTAssertThrowsError(try app.buckets.upload(accountID: accountID, fetchID: "f1", ext: "mp4", localPath: path, contentType: "video/mp4")) { error in
            XCTAssertEqual(error as? BucketError, BucketError(.wrongCredentials,
                "the upload: the provider refused the credentials (HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided.)"))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }
}
