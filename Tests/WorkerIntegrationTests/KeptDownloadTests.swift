import Foundation
import Media
@testable import worker
import XCTest

/// A download kept for the next attempt is read back only while every file it names is still a
/// regular file of the recorded size inside the job's directory.
final class KeptDownloadTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "kept-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func keep() throws -> MediaDownloadResult {
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: directory + "/abc.mp4"))
        try Data("WEBVTT\n".utf8).write(to: URL(fileURLWithPath: directory + "/abc.en.vtt"))
        let result = MediaDownloadResult(path: directory + "/abc.mp4", title: "A title", ext: "mp4", extractor: "generic",
                                         durationSeconds: 2.5, sizeBytes: 1000,
                                         sidecars: [MediaSidecar(path: directory + "/abc.en.vtt", language: "en", ext: "vtt", sizeBytes: 7)])
        try KeptDownload(result, ffprobe: #"{"streams":[]}"#).save(in: directory)
        return result
    }

    func testAKeptDownloadReadsBackAsTheRunnerGaveIt() throws {
        let result = try keep()
        let loaded = try XCTUnwrap(KeptDownload.load(from: directory))
        let got = loaded.result
        XCTAssertEqual([got.path, got.title, got.ext, got.extractor], [result.path, result.title, result.ext, result.extractor])
        XCTAssertEqual(got.durationSeconds, 2.5)
        XCTAssertEqual(got.sizeBytes, 1000)
        XCTAssertEqual(got.sidecars, result.sidecars)
        XCTAssertEqual(loaded.ffprobe, #"{"streams":[]}"#)
    }

    func testNothingKeptIsNil() {
        XCTAssertNil(KeptDownload.load(from: directory))
    }

    func testAFileOfAnotherSizeIsNotTrusted() throws {
        _ = try keep()
        try Data(repeating: 7, count: 999).write(to: URL(fileURLWithPath: directory + "/abc.mp4"))
        XCTAssertNil(KeptDownload.load(from: directory))
    }

    func testASymlinkInPlaceOfTheFileIsNotFollowed() throws {
        _ = try keep()
        let elsewhere = directory + "-elsewhere.mp4"
        try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: elsewhere))
        defer { unlink(elsewhere) }
        unlink(directory + "/abc.mp4")
        XCTAssertEqual(symlink(elsewhere, directory + "/abc.mp4"), 0)
        XCTAssertNil(KeptDownload.load(from: directory))
    }

    func testANameThatLeavesTheDirectoryIsRefused() throws {
        _ = try keep()
        let text = try String(contentsOfFile: directory + "/kept.json", encoding: .utf8)
            .replacingOccurrences(of: #""file":"abc.mp4""#, with: #""file":"..\/abc.mp4""#)
        try text.write(toFile: directory + "/kept.json", atomically: true, encoding: .utf8)
        XCTAssertNil(KeptDownload.load(from: directory))
    }
}
