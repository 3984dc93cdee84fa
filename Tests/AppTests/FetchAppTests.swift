import Dialect
import Domain
@testable import DownloaderAPI
@testable import FetchAPI
import FetchViews
import Foundation
import HTTPCore
import Support
import XCTest

/// Shared by the two fetch dialects' tests: a host whose URL checks allow 127.0.0.1 (the test
/// origin's address; nothing is fetched in-process) and a way to finish a fetch as the worker would.
class FetchDialectTestCase: AppTestCase {
    func makeHost(_ extra: [String] = []) throws -> HostSettings {
        try HostSettings(Arguments(["--socket", directory + "/app.sock", "--database", directory + "/store.sqlite",
                                    "--data", directory + "/data", "--signing-secret-file", directory + "/secret",
                                    "--public-url", "https://media.example", "--allow-private-hosts", "127.0.0.1"] + extra))
    }

    var apiKey: [String: String] { ["x-api-key": token] }

    func json(_ response: Response) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], text(response))
    }

    func post(_ path: String, _ body: String, headers: [String: String]) -> Request {
        request("POST", path, headers: headers, body: body, contentType: "application/json")
    }

    func otherAccountToken() throws -> String {
        try context.accounts.create(.init(name: "Other"), apiKey: "otherkey", token: "othertoken").token
    }

    /// Marks the fetch a success with `bytes` stored (or none), through the queue and the service.
    @discardableResult
    func finish(_ id: String, title: String = "Mi vídeo", bytes: String? = "video") throws -> String {
        let fetches = FetchService(db: context.db, storage: host.storage)
        let queue = JobQueue(db: context.db)
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertEqual(lease.job.payload, id)
        XCTAssertTrue(try fetches.markRunning(publicID: id, lease: lease))
        let key = FetchService.storageKey(publicID: id, ext: "mp4")
        if let bytes {
            let temp = host.scratch.temporaryPath()
            FileManager.default.createFile(atPath: temp, contents: Data(bytes.utf8))
            try host.storage.put(temporaryPath: temp, key: key)
        }
        XCTAssertTrue(try queue.complete(lease) {
            try fetches.succeed(publicID: id, FetchedMedia(
                storageKey: key, filename: FetchService.filename(title: title, ext: "mp4"), sizeBytes: 5, contentType: "video/mp4",
                title: title, extractor: "generic", duration: 2, ffprobe: nil))
        })
        return key
    }
}

/// The Fetch dialect (seed 000) in-process.
final class FetchAppTests: FetchDialectTestCase {
    var app: FetchApp!

    override func setUpWithError() throws {
        try super.setUpWithError()
        app = try FetchApp(AppContext(db: context.db, host: try makeHost()))
    }

    func create(_ body: String = #"{"url": "http://127.0.0.1:9/v.mp4"}"#, headers: [String: String] = [:]) -> Response {
        app.handle(post("/fetch", body, headers: apiKey.merging(headers) { a, _ in a }))
    }

    func error(_ response: Response) throws -> [String: String] {
        try XCTUnwrap(try json(response)["error"] as? [String: String])
    }

    func total() throws -> Int { try json(app.handle(request("GET", "/fetch", headers: apiKey)))["total"] as? Int ?? -1 }

    func testUnauthenticatedIs401() throws {
        let response = app.handle(request("GET", "/fetch"))
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(try error(response)["code"], "unauthorized")
        XCTAssertEqual(app.handle(post("/fetch", #"{"url": "http://127.0.0.1:9/v"}"#, headers: ["x-api-key": "wrong"])).status, 401)
        XCTAssertEqual(try total(), 0)
        // Ids are UUIDs: another segment names no fetch, a 404 before credentials.
        let nope = app.handle(request("GET", "/fetch/nope"))
        XCTAssertEqual(nope.status, 404)
        XCTAssertEqual(try error(nope)["code"], "not_found")
    }

    func testCreateShowAndList() throws {
        let created = create(#"{"url": "http://127.0.0.1:9/v.mp4", "quality": "720p"}"#)
        XCTAssertEqual(created.status, 201, text(created))
        let body = try json(created)
        XCTAssertEqual(Set(body.keys), ["id", "url", "status", "created_at"])
        XCTAssertEqual(body["status"] as? String, "pending")
        XCTAssertEqual(body["url"] as? String, "http://127.0.0.1:9/v.mp4")
        let id = try XCTUnwrap(body["id"] as? String)

        let shown = try json(app.handle(request("GET", "/fetch/" + id, headers: apiKey)))
        XCTAssertEqual(Set(shown.keys), ["id", "url", "status", "quality", "step", "progress", "title", "filename", "size_bytes",
                                         "content_type", "duration", "ffprobe", "download_url", "error", "created_at", "started_at", "finished_at"])
        XCTAssertEqual(shown["quality"] as? String, "720p")
        XCTAssertEqual(shown["step"] as? String, "queued")
        XCTAssertEqual(Set((shown["progress"] as? [String: Any])?.keys ?? [:].keys), ["percent", "bytes", "total_bytes", "speed", "eta"])
        XCTAssertTrue(shown["download_url"] is NSNull)
        XCTAssertTrue(shown["error"] is NSNull)

        _ = create(#"{"url": "http://127.0.0.1:9/b.mp4"}"#)
        let list = try json(app.handle(request("GET", "/fetch", query: "per_page=1", headers: apiKey)))
        XCTAssertEqual(list["total"] as? Int, 2)
        XCTAssertEqual(((list["fetches"] as? [[String: Any]])?.first?["url"]) as? String, "http://127.0.0.1:9/b.mp4")
        XCTAssertEqual(list["has_more"] as? Bool, true)
        let pending = try json(app.handle(request("GET", "/fetch", query: "status=pending", headers: apiKey)))
        XCTAssertEqual(pending["total"] as? Int, 2)
        let success = try json(app.handle(request("GET", "/fetch", query: "status=success", headers: apiKey)))
        XCTAssertEqual(success["total"] as? Int, 0)
        let bad = app.handle(request("GET", "/fetch", query: "status=done", headers: apiKey))
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try error(bad)["message"], "status must be one of: pending, running, success, failed")
    }

    func testFormBodiesWorkToo() throws {
        let response = app.handle(request("POST", "/fetch", headers: apiKey, body: "url=http%3A%2F%2F127.0.0.1%3A9%2Fv&quality=audio",
                                          contentType: "application/x-www-form-urlencoded"))
        XCTAssertEqual(response.status, 201, text(response))
    }

    func testBadInputIs400AndRecordsNothing() throws {
        let cases: [(String, String, String)] = [
            ("{\"url\": ", "bad_request", "Malformed JSON: unexpected end at byte 8"),
            ("{}", "bad_request", "url is required"),
            (#"{"url": "http://127.0.0.1:9/v", "quality": "4k"}"#, "invalid_quality",
             "quality must be one of: best, 1080p, 720p, 480p, 360p, audio, mp4"),
            (#"{"url": "http://127.0.0.2/v"}"#, "url_not_allowed", "The URL leads to an address that may not be fetched"),
            (#"{"url": "http://169.254.169.254/latest/meta-data/"}"#, "url_not_allowed",
             "The URL leads to an address that may not be fetched"),
            (#"{"url": "http://[::ffff:127.0.0.2]/v"}"#, "url_not_allowed", "The URL leads to an address that may not be fetched"),
            (#"{"url": "-J"}"#, "url_not_allowed", "The URL is not a valid http or https URL"),
            (#"{"url": "file:///etc/passwd"}"#, "url_not_allowed", "The URL is not a valid http or https URL"),
            (#"{"url": "http://127.0.0.1:9/v", "webhook_url": "http://10.0.0.1/hook"}"#, "webhook_url_not_allowed",
             "webhook_url: The URL leads to an address that may not be fetched"),
            (#"{"url": "http://127.0.0.1:9/v", "webhook_url": "ftp://127.0.0.1/hook"}"#, "webhook_url_not_allowed",
             "webhook_url: The URL is not a valid http or https URL"),
        ]
        for (body, code, message) in cases {
            let response = create(body)
            XCTAssertEqual(response.status, 400, body)
            XCTAssertEqual(try error(response), ["code": code, "message": message], body)
        }
        XCTAssertEqual(try total(), 0)
        XCTAssertNil(try JobQueue(db: context.db).claim(kinds: [MediaFetchJob.name], leaseSeconds: 60), "no job was queued")
    }

    func testIdempotentCreate() throws {
        let first = create(headers: ["idempotency-key": "k-1"])
        let again = create(headers: ["idempotency-key": "k-1"])
        XCTAssertEqual(first.status, 201)
        XCTAssertEqual(again.status, 201)
        XCTAssertEqual(again.header("Idempotent-Replayed"), "true")
        XCTAssertEqual(try json(first)["id"] as? String, try json(again)["id"] as? String)
        XCTAssertEqual(try total(), 1)
        let other = create(#"{"url": "http://127.0.0.1:9/other"}"#, headers: ["idempotency-key": "k-1"])
        XCTAssertEqual(other.status, 422)
        XCTAssertEqual(try error(other)["code"], "idempotency_key_reused")
    }

    func testOtherAccountsFetchIs404Everywhere() throws {
        let id = try XCTUnwrap(try json(create())["id"] as? String)
        let theirs = ["x-api-key": try otherAccountToken()]
        for (method, path) in [("GET", "/fetch/" + id), ("DELETE", "/fetch/" + id), ("GET", "/fetch/\(id)/x.mp4")] {
            let response = app.handle(request(method, path, headers: theirs))
            XCTAssertEqual(response.status, 404, "\(method) \(path)")
            XCTAssertEqual(try error(response)["code"], "not_found")
        }
        XCTAssertEqual(try json(app.handle(request("GET", "/fetch", headers: theirs)))["total"] as? Int, 0)
        XCTAssertEqual(app.handle(request("GET", "/fetch/" + id, headers: apiKey)).status, 200)
    }

    func testCancelPendingThenDelete() throws {
        let id = try XCTUnwrap(try json(create())["id"] as? String)
        let cancelled = app.handle(request("DELETE", "/fetch/" + id, headers: apiKey))
        XCTAssertEqual(cancelled.status, 200)
        let body = try json(cancelled)
        XCTAssertEqual(body["status"] as? String, "failed")
        XCTAssertEqual(body["error"] as? [String: String], ["code": "cancelled", "message": "The fetch was cancelled"])
        XCTAssertNil(try JobQueue(db: context.db).claim(kinds: [MediaFetchJob.name], leaseSeconds: 60), "its job was cancelled")
        let deleted = app.handle(request("POST", "/fetch/" + id, query: "_method=DELETE", headers: apiKey))
        XCTAssertEqual(deleted.status, 200)
        XCTAssertEqual(try json(deleted)["deleted"] as? Bool, true)
        XCTAssertEqual(app.handle(request("GET", "/fetch/" + id, headers: apiKey)).status, 404)
    }

    func testDownloadIs409UntilSuccessThenASignedLink() throws {
        let id = try XCTUnwrap(try json(create())["id"] as? String)
        let early = app.handle(request("GET", "/fetch/\(id)/x.mp4", headers: apiKey))
        XCTAssertEqual(early.status, 409)
        XCTAssertEqual(try error(early)["code"], "not_ready")
        let key = try finish(id, title: "Mi vídeo")
        let shown = try json(app.handle(request("GET", "/fetch/" + id, headers: apiKey)))
        XCTAssertEqual(shown["status"] as? String, "success")
        XCTAssertEqual(shown["filename"] as? String, "Mi vídeo.mp4")
        XCTAssertEqual(shown["download_url"] as? String, "https://media.example/fetch/\(id)/Mi%20v%C3%ADdeo.mp4")
        let link = app.handle(request("GET", "/fetch/\(id)/Mi%20v%C3%ADdeo.mp4", headers: apiKey))
        XCTAssertEqual(link.status, 302)
        XCTAssertTrue(link.header("Location")?.hasPrefix("https://media.example/dl/\(key)?md5=") ?? false, link.header("Location") ?? "")
        // The webhook body is the same object.
        let fetch = try FetchService(db: context.db, storage: host.storage).get(accountID: 1, publicID: id)
        let frozen = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(FetchViews.status(fetch, downloadBase: "https://media.example")))
                                   as? [String: Any])
        XCTAssertEqual(frozen["download_url"] as? String, shown["download_url"] as? String)
    }

    /// The URL is checked first; then the real yt-dlp (behind a guard) asks an origin that refuses
    /// connections: 502 `network`, for GET and POST alike, and no fetch is created.
    func testMetadataChecksTheURLThenAsksYTDLP() throws {
        let missing = app.handle(request("GET", "/fetch/metadata", headers: apiKey))
        XCTAssertEqual(missing.status, 400)
        let refused = app.handle(request("GET", "/fetch/metadata", query: "url=http%3A%2F%2F127.0.0.2%2Fv", headers: apiKey))
        XCTAssertEqual(refused.status, 400)
        XCTAssertEqual(try error(refused)["code"], "url_not_allowed")
        for response in [app.handle(request("GET", "/fetch/metadata", query: "url=http%3A%2F%2F127.0.0.1%3A9%2Fv", headers: apiKey)),
                         app.handle(post("/fetch/metadata", #"{"url": "http://127.0.0.1:9/v"}"#, headers: apiKey))] {
            XCTAssertEqual(response.status, 502)
            XCTAssertEqual(try error(response)["code"], "network")
        }
        XCTAssertEqual(try total(), 0)
    }
}

/// The Downloader dialect (seed 003) in-process.
final class DownloaderAppTests: FetchDialectTestCase {
    func makeApp(_ extra: [String] = []) throws -> DownloaderApp {
        try DownloaderApp(AppContext(db: context.db, host: try makeHost(extra)))
    }

    func detail(_ response: Response) throws -> String? { try json(response)["detail"] as? String }

    func start(_ app: DownloaderApp, _ body: String = #"{"url": "http://127.0.0.1:9/v.mp4", "quality": "720p"}"#,
               headers: [String: String]? = nil) -> Response {
        app.handle(post("/api/download", body, headers: headers ?? apiKey))
    }

    func list(_ app: DownloaderApp, headers: [String: String]? = nil) throws -> [[String: Any]] {
        let response = app.handle(request("GET", "/api/downloads", headers: headers ?? apiKey))
        XCTAssertEqual(response.status, 200, text(response))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
    }

    func testKeylessIs401WithoutTheOption() throws {
        let app = try makeApp()
        for response in [app.handle(request("GET", "/api/downloads")), start(app, headers: [:])] {
            XCTAssertEqual(response.status, 401)
            XCTAssertEqual(try json(response).keys.sorted(), ["detail"])
        }
        XCTAssertEqual(try list(app).count, 0)
    }

    func testKeylessActsAsTheConfiguredAccountOnly() throws {
        let app = try makeApp(["--downloader-account", key])
        let started = start(app, headers: [:])
        XCTAssertEqual(started.status, 200, text(started))
        let body = try json(started)
        XCTAssertEqual(Set(body.keys), ["download_id", "status"])
        XCTAssertEqual(body["status"] as? String, "pending")
        let id = try XCTUnwrap(body["download_id"] as? String)
        XCTAssertEqual(try list(app, headers: [:]).map { $0["id"] as? String }, [id])
        // The account's own token sees it too; wrong credentials are still refused.
        XCTAssertEqual(try list(app).map { $0["id"] as? String }, [id])
        XCTAssertEqual(app.handle(request("GET", "/api/downloads", headers: ["x-api-key": "wrong"])).status, 401)
        // Another account does not.
        XCTAssertEqual(try list(app, headers: ["x-api-key": try otherAccountToken()]).count, 0)
        // A revoked key serves no one.
        XCTAssertTrue(try context.accounts.revoke(apiKey: key))
        XCTAssertEqual(app.handle(request("GET", "/api/downloads")).status, 401)
    }

    func testListEntriesAsTheSeedShowsThem() throws {
        let app = try makeApp()
        let id = try XCTUnwrap(try json(start(app))["download_id"] as? String)
        var entry = try XCTUnwrap(try list(app).first)
        XCTAssertEqual(Set(entry.keys), ["id", "url", "title", "status", "progress", "quality", "filename", "error", "created_at"])
        XCTAssertEqual(entry["status"] as? String, "pending")
        XCTAssertEqual(entry["progress"] as? Int, 0)
        XCTAssertEqual(entry["quality"] as? String, "720p")
        XCTAssertTrue(entry["error"] is NSNull)
        try finish(id, title: "Clip")
        entry = try XCTUnwrap(try list(app).first)
        XCTAssertEqual(entry["status"] as? String, "completed")
        XCTAssertEqual(entry["progress"] as? Int, 100)
        XCTAssertEqual(entry["title"] as? String, "Clip")
        XCTAssertEqual(entry["filename"] as? String, "Clip.mp4")
    }

    func testBadInputIs400WithDetail() throws {
        let app = try makeApp()
        let quality = start(app, #"{"url": "http://127.0.0.1:9/v", "quality": "8k"}"#)
        XCTAssertEqual(quality.status, 400)
        XCTAssertEqual(try detail(quality), "quality must be one of: best, 1080p, 720p, 480p, 360p, audio, mp4")
        let ssrf = start(app, #"{"url": "http://169.254.169.254/", "quality": "best"}"#)
        XCTAssertEqual(ssrf.status, 400)
        XCTAssertEqual(try detail(ssrf), "The URL leads to an address that may not be fetched")
        let broken = start(app, #"{"url": "#)
        XCTAssertEqual(broken.status, 400)
        XCTAssertEqual(try detail(broken)?.hasPrefix("Malformed JSON"), true)
        XCTAssertEqual(try list(app).count, 0)
    }

    func testIdempotentStart() throws {
        let app = try makeApp()
        let first = start(app, headers: apiKey.merging(["idempotency-key": "d-1"]) { a, _ in a })
        let again = start(app, headers: apiKey.merging(["idempotency-key": "d-1"]) { a, _ in a })
        XCTAssertEqual(again.header("Idempotent-Replayed"), "true")
        XCTAssertEqual(try json(first)["download_id"] as? String, try json(again)["download_id"] as? String)
        XCTAssertEqual(try list(app).count, 1)
    }

    func testFileAnswers() throws {
        let app = try makeApp()
        let unknown = app.handle(request("GET", "/api/download/00000000-0000-4000-8000-000000000000/file", headers: apiKey))
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(try detail(unknown), "Descarga no disponible o no completada")
        let id = try XCTUnwrap(try json(start(app))["download_id"] as? String)
        let pending = app.handle(request("GET", "/api/download/\(id)/file", headers: apiKey))
        XCTAssertEqual(pending.status, 404)
        XCTAssertEqual(try detail(pending), "Descarga no disponible o no completada")
        let otherTenant = app.handle(request("GET", "/api/download/\(id)/file", headers: ["x-api-key": try otherAccountToken()]))
        XCTAssertEqual(otherTenant.status, 404)

        let key = try finish(id, title: "Título: ñ")
        let sent = app.handle(request("GET", "/api/download/\(id)/file", headers: apiKey))
        XCTAssertEqual(sent.status, 200)
        XCTAssertEqual(sent.header("X-Accel-Redirect"), "/_files/" + key)
        XCTAssertEqual(sent.header("Content-Type"), "video/mp4")
        XCTAssertEqual(sent.header("Content-Disposition"),
                       #"attachment; filename*=UTF-8''T%C3%ADtulo%3A%20%C3%B1.mp4; filename="T_tulo: _.mp4""#)

        try host.storage.remove(key: key)
        let gone = app.handle(request("GET", "/api/download/\(id)/file", headers: apiKey))
        XCTAssertEqual(gone.status, 404)
        XCTAssertEqual(try detail(gone), "Archivo físico no encontrado")
    }

    func testRemove() throws {
        let app = try makeApp()
        let id = try XCTUnwrap(try json(start(app))["download_id"] as? String)
        let key = try finish(id)
        let theirs = app.handle(request("DELETE", "/api/downloads/\(id)/remove", headers: ["x-api-key": try otherAccountToken()]))
        XCTAssertEqual(theirs.status, 404)
        let removed = app.handle(request("DELETE", "/api/downloads/\(id)/remove", headers: apiKey))
        XCTAssertEqual(removed.status, 200)
        XCTAssertEqual(try json(removed) as? [String: String], ["detail": "Descarga eliminada", "id": id])
        XCTAssertNil(try host.storage.attributes(key: key))
        XCTAssertEqual(try list(app).count, 0)
        let again = app.handle(request("DELETE", "/api/downloads/\(id)/remove", headers: apiKey))
        XCTAssertEqual(again.status, 404)
        XCTAssertEqual(try detail(again), "Descarga no encontrada")
    }
}

import Media

/// The quality presets are named twice by necessity (Domain may not import Media): the dialects
/// check `FetchQuality`, the worker runs `QualityPreset`. The two lists must stay one.
final class QualityListTests: XCTestCase {
    func testTheDialectsPresetsAreTheRunnersPresets() {
        XCTAssertEqual(FetchQuality.allCases.map(\.rawValue), QualityPreset.allCases.map(\.rawValue))
    }
}
