import XCTest
import Domain
import FileStores
import HTTPCore
import Foundation

/// The local-disk `FileStore`: what nginx serves by `alias`, put by rename from scratch space.
final class LocalDiskStoreTests: XCTestCase {
    var data = ""
    var scratch: ScratchSpace!
    var store: (any FileStore)!

    override func setUpWithError() throws {
        data = NSTemporaryDirectory() + "filestores-test-\(UUID().uuidString)/data"
        scratch = ScratchSpace(dataDirectory: data)
        try scratch.prepare()
        store = try FileStores.open(url: FileStores.localURL(dataDirectory: data), signingSecret: "s3cret")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: (data as NSString).deletingLastPathComponent)
    }

    func temp(_ bytes: [UInt8]) -> String {
        let path = scratch.temporaryPath()
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func testPutMovesTheTempFileUnderItsKeyAndReplaces() throws {
        let first = temp([1, 2, 3])
        try store.put(temporaryPath: first, key: "ab/cdef")
        XCTAssertFalse(FileManager.default.fileExists(atPath: first))
        XCTAssertEqual(FileManager.default.contents(atPath: data + "/files/ab/cdef"), Data([1, 2, 3]))
        try store.put(temporaryPath: temp([9]), key: "ab/cdef")
        XCTAssertEqual(FileManager.default.contents(atPath: data + "/files/ab/cdef"), Data([9]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.directory), [])
    }

    func testPutOfAMissingTempFileThrowsAndStoresNothing() {
        XCTAssertThrowsError(try store.put(temporaryPath: scratch.path(named: "gone"), key: "m/x.mp4")) {
            XCTAssertTrue($0 is StorageError, "\($0)")
        }
        XCTAssertNil(try store.attributes(key: "m/x.mp4"))
    }

    func testAttributesAreWhatNginxSees() throws {
        try store.put(temporaryPath: temp(Array(repeating: 7, count: 1234)), key: "m/a.bin")
        var info = stat()
        XCTAssertEqual(stat(data + "/files/m/a.bin", &info), 0)
        let attributes = try XCTUnwrap(store.attributes(key: "m/a.bin"))
        XCTAssertEqual(attributes.size, 1234)
        XCTAssertEqual(attributes.modified, Int64(info.st_mtim.tv_sec))
        XCTAssertNil(try store.attributes(key: "m/missing.bin"))
    }

    func testRemoveIsFineWhenMissing() throws {
        try store.put(temporaryPath: temp([1]), key: "m/r")
        try store.remove(key: "m/r")
        XCTAssertNil(try store.attributes(key: "m/r"))
        XCTAssertNoThrow(try store.remove(key: "m/r"))
    }

    func testDeliveryBehindTheReplyIsNginxsInternalLocation() throws {
        let delivery = try store.delivery(key: "ab/cdef", filename: "a.zip", contentType: "application/zip", route: .behindReply)
        XCTAssertEqual(delivery, .internalPath("/_files/ab/cdef"))
        XCTAssertNil(delivery.location(base: "http://x"))
    }

    func testLinksAreSignedForNginxsSecureLink() throws {
        let delivery = try store.delivery(key: "m/file_x.mp4", filename: "Grüße.mp4", contentType: "video/mp4",
                                          route: .link(expires: 1_700_000_000))
        let signed = URLSigner(secret: "s3cret").sign(path: "/dl/m/file_x.mp4", expires: 1_700_000_000, name: "Grüße.mp4")
        XCTAssertEqual(delivery, .signedPath(signed))
        XCTAssertEqual(delivery.location(base: "http://127.0.0.1:8080"), "http://127.0.0.1:8080" + signed)
        XCTAssertEqual(FileDelivery.presignedURL("https://b.example/k?sig=1").location(base: "http://x"), "https://b.example/k?sig=1")
    }

    func testLinksNeedTheSecret() throws {
        let unsigned = try FileStores.open(url: FileStores.localURL(dataDirectory: data))
        XCTAssertThrowsError(try unsigned.delivery(key: "k", filename: "k", contentType: "text/plain", route: .link(expires: 1)))
        XCTAssertEqual(try unsigned.delivery(key: "k", filename: "k", contentType: "text/plain", route: .behindReply),
                       .internalPath("/_files/k"))
    }

    func testLocalFileIsTheStoredFile() throws {
        try store.put(temporaryPath: temp([4, 2]), key: "m/p.mp3")
        let bytes = try store.withLocalFile(key: "m/p.mp3") { FileManager.default.contents(atPath: $0) }
        XCTAssertEqual(bytes, Data([4, 2]))
    }

    func testOnlyFileURLsOpen() {
        for url in ["gs://bucket/prefix", "file:", "/plain/dir", ""] {
            XCTAssertThrowsError(try FileStores.open(url: url), url) {
                XCTAssertTrue("\($0)".contains("unsupported file store URL '\(url)'"), "\($0)")
            }
        }
    }
}
