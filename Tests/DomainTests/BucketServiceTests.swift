import Domain
import Store
import XCTest

/// A reversible stand-in cipher would hide nothing; the real one lives in Crypto (SecretBoxTests).
/// Here the sealer only marks what it sealed, so the test can read the rows and see no plain secret.
private struct MarkingSealer: SecretSealer {
    func seal(_ plaintext: String) -> String { "sealed:" + String(plaintext.reversed()) }
    func open(_ sealed: String) throws -> String {
        guard sealed.hasPrefix("sealed:") else { throw DomainError.invalid("not sealed") }
        return String(sealed.dropFirst(7).reversed())
    }
}

final class BucketServiceTests: DomainTestCase {
    func service(_ now: Int64 = 5_000) -> BucketService { BucketService(db: db, sealer: MarkingSealer(), clock: .fixed(now)) }

    let s3 = BucketSettings(provider: .s3, bucket: "team-media", region: "eu-west-1", endpoint: "https://s3.example.net",
                            prefix: "fetchgate/", pathStyle: true, accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    func testSaveAfterTheProbeAndReadBack() throws {
        let (account, _, _) = try makeAccount()
        var probed: [BucketSettings] = []
        let view = try service().save(accountID: account.id, s3) { probed.append($0) }
        XCTAssertEqual(probed, [s3])
        XCTAssertEqual(view.secretMasked, "****EKEY")
        XCTAssertNil(view.sasMasked)
        XCTAssertEqual(try service().settings(accountID: account.id), s3)
        XCTAssertEqual(try service().view(accountID: account.id), view)
        XCTAssertEqual(view.createdAt, 5_000)
        // At rest: sealed, never the plain secret.
        let row = try XCTUnwrap(try db.queryOne("SELECT secret_sealed, access_key_id FROM buckets WHERE account_id = ?", [account.id]))
        XCTAssertEqual(row.string("secret_sealed"), "sealed:" + String(s3.secret!.reversed()))
        XCTAssertEqual(row.string("access_key_id"), "AKIAIOSFODNN7EXAMPLE")
    }

    func testAFailedProbeSavesNothing() throws {
        let (account, _, _) = try makeAccount()
        struct Refused: Error {}
        XCTAssertThrowsError(try service().save(accountID: account.id, s3) { _ in throw Refused() }) { XCTAssertTrue($0 is Refused) }
        XCTAssertNil(try service().settings(accountID: account.id))
        // A replaced bucket: the failed save keeps the old one.
        try service().save(accountID: account.id, s3) { _ in }
        var other = s3
        other.bucket = "other"
        XCTAssertThrowsError(try service().save(accountID: account.id, other) { _ in throw Refused() })
        XCTAssertEqual(try service().settings(accountID: account.id)?.bucket, "team-media")
    }

    func testSavingAgainReplacesAndDeleteIsPerProvider() throws {
        let (account, _, _) = try makeAccount()
        try service().save(accountID: account.id, s3) { _ in }
        let blob = BucketSettings(provider: .blob, bucket: "media", endpoint: nil, accessKeyID: "fetchgatemedia", secret: nil,
                                  sas: "sv=2025-01-05&ss=b&srt=co&sp=rwdlac&sig=abcdEFGH1234")
        let view = try service().save(accountID: account.id, blob) { _ in }
        XCTAssertEqual(view.sasMasked, "****1234")
        XCTAssertEqual(try db.queryOne("SELECT COUNT(*) AS n FROM buckets")?.int("n"), 1)
        XCTAssertEqual(try service().settings(accountID: account.id), blob)
        XCTAssertFalse(try service().delete(accountID: account.id, provider: .s3))
        XCTAssertTrue(try service().delete(accountID: account.id, provider: .blob))
        XCTAssertNil(try service().settings(accountID: account.id))
    }

    func testValidationNamesTheField() throws {
        let (account, _, _) = try makeAccount()
        func refused(_ change: (inout BucketSettings) -> Void) -> String? {
            var settings = s3
            change(&settings)
            do { try service().save(accountID: account.id, settings) { _ in XCTFail("probed") }; return nil } catch DomainError.invalid(let m) {
                return m
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refused { $0.bucket = "x" }, "bucket must be 3 to 63 letters, digits, dots or hyphens")
        XCTAssertEqual(refused { $0.accessKeyID = "" }, "access_key_id is required")
        XCTAssertEqual(refused { $0.secret = nil }, "secret_access_key is required")
        XCTAssertEqual(refused { $0.endpoint = "ftp://x" }, "endpoint must be an http(s) URL")
        XCTAssertEqual(refused { $0.prefix = "/abs" }, "prefix must be at most 512 characters, not start with / and hold no ..")
        XCTAssertEqual(refused { $0.prefix = "a/../b" }, "prefix must be at most 512 characters, not start with / and hold no ..")
        XCTAssertEqual(refused { $0.region = "EU WEST" }, "region must be lowercase letters, digits and hyphens")
        XCTAssertEqual(refused { $0.provider = .blob; $0.accessKeyID = "acct"; $0.sas = "sig=x" }, "give either account_key or sas_token")
        XCTAssertEqual(refused { $0.provider = .oss; $0.region = ""; $0.endpoint = nil }, "region is required for oss")
    }

    func testMasking() {
        XCTAssertEqual(BucketView.mask("abcdefghWXYZ"), "****WXYZ")
        XCTAssertEqual(BucketView.mask("short"), "****")
        XCTAssertNil(BucketView.mask(nil))
    }

    func testObjectKeyOfAFetch() throws {
        let (account, _, _) = try makeAccount()
        let fetches = FetchService(db: db, storage: storage, clock: .fixed(10))
        let fetch = try fetches.create(accountID: account.id, url: "https://example.com/v", quality: .best, webhookURL: nil)
        XCTAssertNil(fetch.objectKey)
        XCTAssertEqual(s3.objectKey(fetchID: fetch.id, ext: "mp4"), "fetchgate/\(fetch.id).mp4")
        let media = FetchedMedia(storageKey: FetchService.storageKey(publicID: fetch.id, ext: "mp4"), filename: "v.mp4", sizeBytes: 3,
                                 contentType: "video/mp4", title: "v", extractor: "generic", duration: nil, ffprobe: nil)
        XCTAssertTrue(try fetches.succeed(publicID: fetch.id, media, objectKey: "fetchgate/\(fetch.id).mp4"))
        XCTAssertEqual(try fetches.get(publicID: fetch.id)?.objectKey, "fetchgate/\(fetch.id).mp4")
        // Uploaded, not kept here.
        XCTAssertNil(try fetches.get(publicID: fetch.id)?.storageKey)
        try fetches.clearUpload(publicID: fetch.id)
        XCTAssertNil(try fetches.get(publicID: fetch.id)?.objectKey)
    }
}
