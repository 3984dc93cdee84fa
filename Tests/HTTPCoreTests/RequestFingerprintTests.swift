import XCTest
import HTTPCore
import Foundation

final class RequestFingerprintTests: XCTestCase {
    func multipart(boundary: String, file: String, name: String = "clip.mp4") -> Request {
        let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\n"
            + "Content-Type: video/mp4\r\n\r\n\(file)\r\n--\(boundary)--\r\n"
        return Request(method: "POST", path: "/files", headers: ["content-type": "multipart/form-data; boundary=\(boundary)"],
                       body: Array(body.utf8))
    }

    func fingerprint(_ r: Request) -> String { RequestFingerprint.of(r, bodyDirectory: "/nonexistent") }

    func testMultipartIgnoresTheBoundaryButNotTheContent() {
        let a = fingerprint(multipart(boundary: "aaaa1111", file: "bytes"))
        XCTAssertEqual(a, fingerprint(multipart(boundary: "zz-other-boundary", file: "bytes")))
        XCTAssertNotEqual(a, fingerprint(multipart(boundary: "aaaa1111", file: "bytez")))
        XCTAssertNotEqual(a, fingerprint(multipart(boundary: "aaaa1111", file: "bytes", name: "other.mp4")))
        XCTAssertEqual(a.count, 64)
    }

    func testMultipartInABodyFileMatchesTheSameBodyInMemory() throws {
        let dir = NSTemporaryDirectory() + "fp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Larger than one hashing block, so several block digests enter the fingerprint.
        let big = String(repeating: "0123456789abcdef", count: 70_000)
        var inMemory = multipart(boundary: "b1", file: big)
        var onDisk = multipart(boundary: "b2", file: big)
        let path = dir + "/body"
        FileManager.default.createFile(atPath: path, contents: Data(onDisk.body))
        onDisk.body = []
        onDisk.bodyFile = path
        XCTAssertEqual(RequestFingerprint.of(onDisk, bodyDirectory: dir), RequestFingerprint.of(inMemory, bodyDirectory: dir))
        // A body file outside the buffering directory is never read.
        XCTAssertNotEqual(RequestFingerprint.of(onDisk, bodyDirectory: dir + "/elsewhere"), RequestFingerprint.of(inMemory, bodyDirectory: dir))
        inMemory.body[inMemory.body.count - 20] ^= 1
        XCTAssertNotEqual(RequestFingerprint.of(onDisk, bodyDirectory: dir), RequestFingerprint.of(inMemory, bodyDirectory: dir))
    }

    func testMethodPathQueryTypeAndBodyAllCount() {
        let base = Request(method: "POST", path: "/api/orders", rawQuery: "a=1", headers: ["content-type": "application/xml"],
                           body: Array("<order/>".utf8))
        let f = fingerprint(base)
        XCTAssertEqual(f, fingerprint(base))
        var r = base; r.method = "PUT"; XCTAssertNotEqual(f, fingerprint(r))
        r = base; r.path = "/api/orders/create"; XCTAssertNotEqual(f, fingerprint(r))
        r = base; r.rawQuery = "a=2"; XCTAssertNotEqual(f, fingerprint(r))
        r = base; r.headers["content-type"] = "application/x-www-form-urlencoded"; XCTAssertNotEqual(f, fingerprint(r))
        r = base; r.body = Array("<order> </order>".utf8); XCTAssertNotEqual(f, fingerprint(r))
        // Fields are length-prefixed: moving bytes between path and query changes the digest.
        r = base; r.path = "/api/ordersa"; r.rawQuery = "=1"; XCTAssertNotEqual(f, fingerprint(r))
    }
}
