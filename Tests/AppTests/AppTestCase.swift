import Dialect
import Domain
import Foundation
import HTTPCore
import Store
import Support
import XCTest

/// Each dialect's `App.handle` called in-process, with no socket and no nginx: a request in,
/// a response out, on a fresh SQLite store and data directory per test.
class AppTestCase: XCTestCase {
    var directory = ""
    var host: HostSettings!
    var context: AppContext!
    var key = ""
    var token = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "apptests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data/tmp/body", withIntermediateDirectories: true)
        try "test-secret\n".write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
        host = try HostSettings(Arguments(["--socket", directory + "/app.sock", "--database", directory + "/store.sqlite",
                                           "--data", directory + "/data", "--signing-secret-file", directory + "/secret",
                                           "--public-url", "https://shop.example"]))
        try host.scratch.prepare()
        context = try AppContext(host: host)
        try Schema.migrate(context.db)
        let created = try context.accounts.create(.init(name: "Shop"), apiKey: "shopkey", token: "shoptoken")
        key = created.apiKey
        token = created.token
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A request as nginx would pass it: headers lower-cased, the body in memory.
    func request(_ method: String, _ path: String, query: String = "", headers: [String: String] = [:],
                 body: String = "", contentType: String? = nil) -> Request {
        var all = headers
        if let contentType { all["content-type"] = contentType }
        return Request(method: method, path: path, rawQuery: query, headers: all, body: Array(body.utf8))
    }

    var basic: [String: String] {
        ["authorization": "Basic " + Base64.encode(Array("\(key):\(token)".utf8))]
    }

    func text(_ response: Response) -> String { String(decoding: response.body, as: UTF8.self) }
}
