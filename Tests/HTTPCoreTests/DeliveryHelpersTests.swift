import XCTest
import Foundation
@testable import HTTPCore

final class DeliveryHelpersTests: XCTestCase {
    func testContentDispositionASCIIAndUnicode() {
        XCTAssertEqual(ContentDisposition.attachment(filename: "report.pdf"), #"attachment; filename="report.pdf""#)
        XCTAssertEqual(ContentDisposition.attachment(filename: "Grüße 🎵.txt"),
                       #"attachment; filename="Gr__e _.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%F0%9F%8E%B5.txt"#)
        // Quotes, backslashes and header-breaking bytes never reach the quoted form.
        let tricky = ContentDisposition.attachment(filename: "a\"b\\c\r\nd.txt")
        XCTAssertFalse(tricky.contains("\r"))
        XCTAssertFalse(tricky.contains("\n"))
        XCTAssertTrue(tricky.hasPrefix(#"attachment; filename="a_b_cd.txt""#), tricky)
        XCTAssertEqual(ContentDisposition.attachment(filename: ""), #"attachment; filename="download""#)
    }

    /// The same digest nginx computes for `secure_link_md5 "$secure_link_expires$uri$arg_name secret"`
    /// (reference value from Python's hashlib).
    func testSignedURLMatchesReference() {
        let url = URLSigner(secret: "s3cret").sign(path: "/dl/m/file_x.mp4", expires: 1_700_000_000, name: "Grüße.mp4")
        XCTAssertEqual(url, "/dl/m/file_x.mp4?md5=xseaoYRUuH8gCu12d5qZlQ&expires=1700000000&name=Gr%C3%BC%C3%9Fe.mp4")
    }

    func testJSONRendering() {
        let rendered = JSONWriter.document { w in
            w.beginObject()
            w.member("s", "a\"b\\c\n\u{1}")
            w.member("n", nil as String?)
            w.member("i", Int64(-3))
            w.key("d")
            w.double(2.5)
            w.key("whole")
            w.double(4)
            w.key("nan")
            w.double(.nan)
            w.member("b", true)
            w.key("a")
            w.beginArray()
            w.int(1)
            w.raw("{\"x\":1}")
            w.endArray()
            w.endObject()
        }
        XCTAssertEqual(String(decoding: rendered, as: UTF8.self),
                       #"{"s":"a\"b\\c\n\u0001","n":null,"i":-3,"d":2.5,"whole":4,"nan":null,"b":true,"a":[1,{"x":1}]}"#)
    }

    func testMultipartBodyFromMemory() throws {
        let body = "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n  clip  \r\n" +
            "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.bin\"\r\nContent-Type: application/octet-stream\r\n\r\nDATA--B-not\r\n--B--\r\n"
        let request = Request(method: "POST", path: "/files", headers: ["content-type": "multipart/form-data; boundary=B"], body: Array(body.utf8))
        let scratch = NSTemporaryDirectory() + "mp-\(UUID().uuidString)"
        let multipart = try MultipartBody.open(request, bodyDirectory: "/nonexistent", scratchPath: scratch)
        XCTAssertEqual(multipart.field("name"), "clip")
        XCTAssertEqual(multipart.fileParts.map(\.filename), ["c.bin"])
        let out = scratch + ".out"
        try multipart.copy(multipart.fileParts[0], to: out)
        XCTAssertEqual(FileManager.default.contents(atPath: out), Data("DATA--B-not".utf8))
        multipart.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch))
        try? FileManager.default.removeItem(atPath: out)
    }

    func testMultipartBodyRefusesFilesOutsideTheBufferDirectory() {
        var request = Request(method: "POST", path: "/files", headers: ["content-type": "multipart/form-data; boundary=B"])
        request.bodyFile = "/etc/passwd"
        XCTAssertThrowsError(try MultipartBody.open(request, bodyDirectory: NSTemporaryDirectory(), scratchPath: "/tmp/x")) { error in
            XCTAssertEqual((error as? MultipartBody.Error)?.message, "Upload body is not where the web server buffers uploads")
        }
        let plain = Request(method: "POST", path: "/files", headers: ["content-type": "text/plain"], body: [1])
        XCTAssertThrowsError(try MultipartBody.open(plain, bodyDirectory: "/tmp", scratchPath: "/tmp/y"))
    }

    /// A buffered body over the limit is `tooLarge` (413); one that cannot be read is `unreadable` (400).
    func testSmallBodyFileTooLargeIsNotUnreadable() throws {
        let dir = NSTemporaryDirectory() + "body-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/0000000001"
        XCTAssertTrue(BodyFile.write(Array("a=1&b=2".utf8), to: file))
        XCTAssertEqual(try BodyFile.readSmall(file, limit: 7, inside: dir), Array("a=1&b=2".utf8))
        XCTAssertThrowsError(try BodyFile.readSmall(file, limit: 6, inside: dir)) { XCTAssertEqual($0 as? BodyFile.ReadError, .tooLarge) }
        XCTAssertThrowsError(try BodyFile.readSmall(dir + "/gone", limit: 100, inside: dir)) { XCTAssertEqual($0 as? BodyFile.ReadError, .unreadable) }
        XCTAssertThrowsError(try BodyFile.readSmall("/etc/hostname", limit: 100, inside: dir)) { XCTAssertEqual($0 as? BodyFile.ReadError, .unreadable) }
    }
}

final class SignedLinkConfigTests: XCTestCase {
    /// nginx checks the same string `sign` signs: expiry, path, name, one space, the secret.
    func testNginxDirectivesMatchTheSigner() {
        XCTAssertEqual(URLSigner(secret: "s3cret").nginxDirectives(),
                       "secure_link $arg_md5,$arg_expires;\n            secure_link_md5 \"$secure_link_expires$uri$arg_name s3cret\";")
    }

    func testBodyLimitInNginxUnits() {
        XCTAssertEqual(BodyLimit.nginx(BodyLimit.defaultBytes), "8m")
        XCTAssertEqual(BodyLimit.nginx(3 << 10), "3k")
        XCTAssertEqual(BodyLimit.nginx(1000), "1000")
    }
}
