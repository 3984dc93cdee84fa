import Crypto
import Domain
import FileStores
import Foundation
import HTTPCore
import XCTest
@testable import Buckets

/// Our own stored files in a bucket (`FileStores.open(url: "s3://…")`, `S3FileStore`) against moto
/// in server mode, and its links against botocore.
final class S3FileStoreMotoTests: XCTestCase {
    var moto: MotoServer!
    var data = ""
    var scratch: ScratchSpace!
    let keys = ["AWS_ACCESS_KEY_ID": "AKIAOWNSTORE", "AWS_SECRET_ACCESS_KEY": "own/store+secret"]

    override func setUpWithError() throws {
        moto = try MotoServer()
        try moto.createBucket("own-files")
        data = NSTemporaryDirectory() + "s3store-\(UUID().uuidString)"
        scratch = ScratchSpace(dataDirectory: data)
        try scratch.prepare()
    }

    override func tearDown() {
        moto?.stop()
        try? FileManager.default.removeItem(atPath: data)
    }

    func open(bucket: String = "own-files") throws -> any FileStore {
        try FileStores.open(url: "s3://\(bucket)/stored?endpoint=\(moto.endpoint)&region=us-east-1", scratch: scratch, environment: keys)
    }

    func temp(_ bytes: [UInt8]) -> String {
        let path = scratch.temporaryPath()
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func testPutAttributesLocalCopyAndRemove() throws {
        let store = try open()
        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = temp(bytes)
        let before = Int64(Date().timeIntervalSince1970)
        try store.put(temporaryPath: path, key: "ab/cdef.bin")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the temp file is gone after the upload")
        XCTAssertTrue(try moto.curl("GET", "/own-files?list-type=2").contains("<Key>stored/ab/cdef.bin</Key>"))
        let attributes = try XCTUnwrap(try store.attributes(key: "ab/cdef.bin"))
        XCTAssertEqual(attributes.size, 70_000)
        XCTAssertLessThanOrEqual(abs(attributes.modified - before), 2)
        var seen = ""
        let copied = try store.withLocalFile(key: "ab/cdef.bin") { local -> Data in
            seen = local
            return try Data(contentsOf: URL(fileURLWithPath: local))
        }
        XCTAssertEqual(Array(copied), bytes)
        XCTAssertTrue(seen.hasPrefix(scratch.directory + "/"), seen)
        XCTAssertFalse(FileManager.default.fileExists(atPath: seen), "the copy is removed after")
        XCTAssertThrowsError(try store.withLocalFile(key: "ab/missing") { _ in () })
        try store.remove(key: "ab/cdef.bin")
        XCTAssertNil(try store.attributes(key: "ab/cdef.bin"))
        try store.remove(key: "ab/cdef.bin")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.directory), [])
    }

    func testABigFileGoesUpInPartsAndComesBackWhole() throws {
        let size = 17 << 20
        let path = try randomFile(size: size, seed: 13)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let store = try open()
        try store.put(temporaryPath: path, key: "m/big.mp4")
        XCTAssertEqual(try store.attributes(key: "m/big.mp4")?.size, Int64(size))
        XCTAssertEqual(try store.withLocalFile(key: "m/big.mp4") { try Data(contentsOf: URL(fileURLWithPath: $0)) }, bytes)
    }

    func testDeliveryIsAPresignedLinkOrTheInternalProxyPath() throws {
        let store = try open()
        try store.put(temporaryPath: temp(Array("hello".utf8)), key: "ab/x.txt")
        let now = Int64(Date().timeIntervalSince1970)
        let link = try store.delivery(key: "ab/x.txt", filename: "x.txt", contentType: "text/plain", route: .link(expires: now + 600))
        guard case .presignedURL(let url) = link else { return XCTFail("\(link)") }
        XCTAssertTrue(url.hasPrefix(moto.endpoint + "/own-files/stored/ab/x.txt?response-content-disposition="), url)
        XCTAssertEqual(link.location(base: "http://ignored"), url)
        let behind = try store.delivery(key: "ab/x.txt", filename: "x.txt", contentType: "text/plain", route: .behindReply)
        guard case .internalPath(let path) = behind else { return XCTFail("\(behind)") }
        XCTAssertTrue(path.hasPrefix("/_s3/own-files/stored/ab/x.txt?response-content-disposition="), path)
        XCTAssertTrue(path.contains("&X-Amz-Expires=300&"), path)
        XCTAssertNil(behind.location(base: "http://ignored"))
    }

    func testCheckWritesAndDeletesAProbeAndFailsWithoutTheBucket() throws {
        XCTAssertNoThrow(try open().check())
        XCTAssertFalse(try moto.curl("GET", "/own-files?list-type=2").contains("<Key>"), "the probe object is deleted")
        XCTAssertThrowsError(try open(bucket: "no-such-bucket").check())
        // A store whose probe succeeded answers from that for probeSeconds (a health check polled
        // every second writes once per half minute); a store without one probes, and fails.
        let checked = try open()
        try checked.check()
        let store = try open()
        moto.stop()
        XCTAssertNoThrow(try checked.check(), "within \(S3FileStore.probeSeconds) s of a good probe")
        XCTAssertThrowsError(try store.check())
    }

    /// The store's links, whatever the prefix, key and name, are botocore's for the same inputs
    /// (its clock and expiry taken from our URL's X-Amz-Date and X-Amz-Expires).
    func testLinksMatchBotocore() throws {
        let store = try open()
        let names: [(key: String, filename: String, type: String)] = [
            ("m/file_AbC123.mp4", "My Video.mp4", "video/mp4"),
            ("ab/cdef", "Grüße 🎵 \"quoted\";.txt", "text/plain; charset=utf-8"),
        ]
        var cases: [[String: Any]] = []
        var ours: [String] = []
        for name in names {
            let url = try XCTUnwrap(store.delivery(key: name.key, filename: name.filename, contentType: name.type,
                                                   route: .link(expires: Int64(Date().timeIntervalSince1970) + 3600))
                .location(base: ""))
            let query = Dictionary(uniqueKeysWithValues: (URLComponents(string: url)?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            let date = try XCTUnwrap(query["X-Amz-Date"])
            var parts = DateComponents()
            parts.timeZone = TimeZone(identifier: "UTC")
            (parts.year, parts.month, parts.day) = (Int(date.prefix(4)), Int(date.dropFirst(4).prefix(2)), Int(date.dropFirst(6).prefix(2)))
            (parts.hour, parts.minute, parts.second) = (Int(date.dropFirst(9).prefix(2)), Int(date.dropFirst(11).prefix(2)), Int(date.dropFirst(13).prefix(2)))
            let now = Int64(try XCTUnwrap(Calendar(identifier: .gregorian).date(from: parts)).timeIntervalSince1970)
            ours.append(url)
            cases.append(["endpoint": moto.endpoint, "bucket": "own-files", "path_style": true, "key": "stored/" + name.key,
                          "disposition": ContentDisposition.attachment(filename: name.filename), "type": name.type,
                          "id": keys["AWS_ACCESS_KEY_ID"]!, "secret": keys["AWS_SECRET_ACCESS_KEY"]!, "region": "us-east-1",
                          "expires": Int(try XCTUnwrap(query["X-Amz-Expires"]))!, "now": now])
        }
        XCTAssertEqual(ours, try oracle(SigV4OracleTests.botocorePresign, cases))
    }
}
