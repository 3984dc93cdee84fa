import XCTest
import Domain
import Store
import FileStores
import Foundation

/// A fresh database and storage directory per test.
class DomainTestCase: XCTestCase {
    var directory = ""
    /// The test database, opened like the servers open theirs; more connections open this URL.
    var databaseURL = ""
    var db: (any Database)!
    var storage: LocalDiskStore!
    var scratch: ScratchSpace!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "domain-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        databaseURL = "sqlite:" + directory + "/db.sqlite"
        db = try Databases.open(url: databaseURL)
        try Migrator.migrate(db, Schema.migrations, now: 0)
        scratch = ScratchSpace(dataDirectory: directory + "/data")
        try scratch.prepare()
        storage = LocalDiskStore(directory: directory + "/data/files")
        try storage.prepare()
    }

    override func tearDown() {
        db = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    func makeAccount(_ name: String = "Shop") throws -> (Account, String, String) {
        try AccountService(db: db, clock: .fixed(1_000)).create(.init(name: name))
    }

    func makeUpload(account: Int64, name: String = "file.zip", bytes: [UInt8] = Array("data".utf8)) throws -> Upload {
        let temp = scratch.temporaryPath()
        FileManager.default.createFile(atPath: temp, contents: Data(bytes))
        return try UploadService(db: db, storage: storage, clock: .fixed(2_000))
            .record(accountID: account, filename: name, contentType: nil, temporaryPath: temp, ipAddress: "127.0.0.1")
    }
}
