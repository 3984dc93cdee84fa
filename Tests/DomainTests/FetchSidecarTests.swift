import XCTest
import Domain
import Store
import Foundation

/// Sidecar subtitles: listed with the fetch (`fetches.sidecars`, migration 13), committed with
/// its success, and removed with its media by every way a fetch goes away.
extension FetchServiceTests {
    /// A fetch finished as the worker finishes one: its media and two subtitle files stored, and
    /// the success committed with the job's completion. Returns the fetch and every stored key.
    func finishedWithSidecars(_ url: String = "https://example.com/v") throws -> (Fetch, [String]) {
        let fetch = try fetches.create(accountID: account, url: url, quality: .best, webhookURL: nil)
        let lease = JobLease(try XCTUnwrap(queue.claim(kinds: [MediaFetchJob.name], leaseSeconds: 60)))
        XCTAssertTrue(try fetches.markRunning(publicID: fetch.id, lease: lease))
        let key = FetchService.storageKey(publicID: fetch.id, ext: "mp4")
        let sidecars = [("en", "vtt"), ("pt-BR", "srt")].map { language, ext in
            FetchSidecar(storageKey: FetchService.sidecarKey(publicID: fetch.id, language: language, ext: ext), language: language,
                         ext: ext, sizeBytes: 6)
        }
        for stored in [key] + sidecars.map(\.storageKey) {
            let temp = scratch.temporaryPath()
            FileManager.default.createFile(atPath: temp, contents: Data("WEBVTT".utf8))
            try storage.put(temporaryPath: temp, key: stored)
        }
        XCTAssertTrue(try queue.complete(lease) {
            XCTAssertTrue(try fetches.succeed(publicID: fetch.id, FetchedMedia(
                storageKey: key, filename: "Clip.mp4", sizeBytes: 6, contentType: "video/mp4", title: "Clip", extractor: "generic",
                duration: 1, ffprobe: "{}", sidecars: sidecars)))
        })
        return (try XCTUnwrap(fetches.get(publicID: fetch.id)), [key] + sidecars.map(\.storageKey))
    }

    func assertNotStored(_ keys: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        for key in keys { XCTAssertNil(try storage.attributes(key: key), key, file: file, line: line) }
    }

    func testSidecarsAreListedWithTheFetch() throws {
        let (fetch, keys) = try finishedWithSidecars()
        XCTAssertEqual(keys, ["f/\(fetch.id).mp4", "f/\(fetch.id).en.vtt", "f/\(fetch.id).pt-BR.srt"])
        XCTAssertEqual(fetch.sidecars, [
            FetchSidecar(storageKey: "f/\(fetch.id).en.vtt", language: "en", ext: "vtt", sizeBytes: 6),
            FetchSidecar(storageKey: "f/\(fetch.id).pt-BR.srt", language: "pt-BR", ext: "srt", sizeBytes: 6),
        ])
        for key in keys { XCTAssertEqual(try storage.attributes(key: key)?.size, 6) }
        // A fetch without any stays NULL in the column and lists none.
        let plain = try fetches.create(accountID: account, url: "https://example.com/p", quality: .best, webhookURL: nil)
        XCTAssertEqual(try fetches.get(publicID: plain.id)?.sidecars, [])
        XCTAssertNil(try db.queryOne("SELECT sidecars FROM fetches WHERE public_id = ?", [plain.id])?.string("sidecars"))
    }

    func testDeleteRemovesTheSidecars() throws {
        let (fetch, keys) = try finishedWithSidecars()
        XCTAssertEqual(try fetches.cancelOrDelete(accountID: account, publicID: fetch.id), .deleted)
        try assertNotStored(keys)
    }

    func testRemoveRemovesTheSidecars() throws {
        let (fetch, keys) = try finishedWithSidecars()
        try fetches.remove(accountID: account, publicID: fetch.id)
        XCTAssertNil(try fetches.get(publicID: fetch.id))
        try assertNotStored(keys)
    }

    func testExpireRemovesTheSidecarsAndNamesTheirKeys() throws {
        let (fetch, keys) = try finishedWithSidecars()
        time.now += 86_400
        XCTAssertEqual(try fetches.expire(olderThan: time.now), keys)
        XCTAssertNil(try fetches.get(publicID: fetch.id))
        try assertNotStored(keys)
    }

    func testSidecarKeys() {
        XCTAssertEqual(FetchService.sidecarKey(publicID: "abc", language: "en", ext: "VTT"), "f/abc.en.vtt")
        XCTAssertEqual(FetchService.sidecarKey(publicID: "abc", language: "../en/x", ext: "../srt"), "f/abc.enx")
        XCTAssertEqual(FetchService.sidecarKey(publicID: "abc", language: "/", ext: "vtt"), "f/abc.sub.vtt")
    }
}
