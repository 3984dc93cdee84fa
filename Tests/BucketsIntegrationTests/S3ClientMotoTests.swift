import Crypto
import Foundation
import Outbound
import XCTest
@testable import Buckets

/// Real upload flows through `S3Client` (libcurl, SigV4 by libcurl, the address policy) against
/// moto in server mode on loopback.
final class S3ClientMotoTests: XCTestCase {
    var moto: MotoServer!
    let policy = AddressPolicy(allowedPrivateHosts: ["127.0.0.1"])

    override func setUpWithError() throws {
        moto = try MotoServer()
        try moto.createBucket("media")
    }

    override func tearDown() { moto?.stop() }

    func client(bucket: String = "media") -> S3Client {
        S3Client(endpoint: moto.endpoint, region: "us-east-1", bucket: bucket, accessKeyID: "AKIDEXAMPLE",
                 secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", pathStyle: true, policy: policy)
    }

    /// The object's bytes through a presigned GET (moto serves them; it does not judge the signature).
    func download(_ url: String) throws -> (bytes: Data, headers: String) {
        let directory = NSTemporaryDirectory() + "dl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try runProgram(["/usr/bin/curl", "-sS", "--noproxy", "*", "-D", directory + "/h", "-o", directory + "/b", url])
        XCTAssertEqual(result.status, 0, result.stderr)
        return (try Data(contentsOf: URL(fileURLWithPath: directory + "/b")),
                try String(contentsOfFile: directory + "/h", encoding: .utf8))
    }

    func testSinglePutHeadPresignedGetDelete() throws {
        let path = try randomFile(size: 1 << 20)
        let s3 = client()
        let stored = try s3.put(localPath: path, key: "in/one file.mp4", contentType: "video/mp4")
        let local = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(stored, StoredObject(key: "in/one file.mp4", size: 1 << 20, etag: Digest.hex(Digest.md5(Array(local)))))
        XCTAssertEqual(try s3.head(key: "in/one file.mp4"), stored)
        let url = try s3.presignedGET(key: "in/one file.mp4", filename: "Clip – ünï.mp4", contentType: "video/mp4", expires: 3600)
        let got = try download(url)
        XCTAssertEqual(got.bytes, local)
        XCTAssertTrue(got.headers.contains("HTTP/1.1 200"), got.headers)
        XCTAssertTrue(got.headers.lowercased().contains("content-disposition: attachment; filename=\"clip _ _n_.mp4\"; filename*=utf-8''clip%20%e2%80%93%20%c3%bcn%c3%af.mp4"),
                      got.headers)
        try s3.delete(key: "in/one file.mp4")
        XCTAssertNil(try s3.head(key: "in/one file.mp4"))
        try s3.delete(key: "in/one file.mp4") // already gone: fine
    }

    func testMultipart12MiBIn5MiBParts() throws {
        let size = 12 << 20
        let path = try randomFile(size: size, seed: 7)
        var s3 = client()
        s3.multipartThreshold = 6 << 20
        s3.partSize = 5 << 20
        let stored = try s3.put(localPath: path, key: "big.mp4", contentType: "video/mp4")
        XCTAssertEqual(stored.size, Int64(size))
        // Three parts: 5 + 5 + 2 MiB; the ETag is the MD5 of the parts' MD5s, "-3".
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let parts = [bytes[0..<(5 << 20)], bytes[(5 << 20)..<(10 << 20)], bytes[(10 << 20)...]].flatMap { Digest.md5(Array($0)) }
        XCTAssertEqual(stored.etag, Digest.hex(Digest.md5(parts)) + "-3")
        let url = try s3.presignedGET(key: "big.mp4", filename: "big.mp4", contentType: "video/mp4", expires: 600)
        XCTAssertEqual(Array(try download(url).bytes), bytes)
        XCTAssertFalse(try moto.curl("GET", "/media?uploads").contains("<Upload>"))
    }

    func testAFailingPartAbortsTheUpload() throws {
        let path = try randomFile(size: 12 << 20, seed: 9)
        var s3 = client()
        s3.multipartThreshold = 6 << 20
        s3.partSize = 5 << 20
        var listedWhileRunning = ""
        var asked = 0
        // The transfer is stopped during the second part (the job lost its lease).
        XCTAssertThrowsError(try s3.put(localPath: path, key: "aborted.mp4", contentType: "video/mp4", shouldStop: { [moto] in
            asked += 1
            if listedWhileRunning.isEmpty, let listing = try? moto!.curl("GET", "/media?uploads"), listing.contains("<Upload>") {
                listedWhileRunning = listing
            }
            return !listedWhileRunning.isEmpty && asked > 3 && listedWhileRunning.contains("aborted.mp4")
        })) { error in
            XCTAssertEqual((error as? BucketError)?.code, .stopped)
        }
        XCTAssertTrue(listedWhileRunning.contains("<Key>aborted.mp4</Key>"), listedWhileRunning)
        XCTAssertFalse(try moto.curl("GET", "/media?uploads").contains("<Upload>"), "the multipart upload was aborted")
        XCTAssertNil(try s3.head(key: "aborted.mp4"))
    }

    /// A worker killed mid-upload leaves its multipart upload open; the next attempt aborts it,
    /// uploads again, and the object appears once with no upload left over.
    func testARestartedUploadAbortsTheOneAKilledWorkerLeft() throws {
        let path = try randomFile(size: 7 << 20, seed: 3)
        var s3 = client()
        s3.multipartThreshold = 6 << 20
        s3.partSize = 5 << 20
        let started = try s3.send("POST", "again.mp4", query: "uploads=", body: .memory([]))
        XCTAssertEqual(started.status, 200)
        let other = try s3.send("POST", "again.mp4.other", query: "uploads=", body: .memory([]))
        XCTAssertEqual(other.status, 200)
        XCTAssertEqual(try moto.curl("GET", "/media?uploads").components(separatedBy: "<Upload>").count - 1, 2)
        let stored = try s3.put(localPath: path, key: "again.mp4", contentType: "video/mp4")
        XCTAssertEqual(stored.size, 7 << 20)
        let listing = try moto.curl("GET", "/media?uploads")
        XCTAssertEqual(listing.components(separatedBy: "<Upload>").count - 1, 1, listing)
        XCTAssertTrue(listing.contains("<Key>again.mp4.other</Key>"), "an upload of another key is left alone")
        XCTAssertEqual(try moto.curl("GET", "/media").components(separatedBy: "<Key>again.mp4</Key>").count - 1, 1)
    }

    func testProbeWritesAndDeletesATestObject() throws {
        try client().probe(prefix: "uploads/")
        XCTAssertFalse(try moto.curl("GET", "/media").contains("<Key>"), "nothing left behind")
    }

    func testMissingBucketIsNamed() throws {
        XCTAssertThrowsError(try client(bucket: "nope").probe(prefix: "")) { error in
            let error = error as? BucketError
            XCTAssertEqual(error?.code, .noSuchBucket)
            XCTAssertTrue(error?.message.contains("HTTP 404 NoSuchBucket") == true, error?.message ?? "")
        }
        let path = try randomFile(size: 1000)
        XCTAssertThrowsError(try client(bucket: "nope").put(localPath: path, key: "x.mp4", contentType: "video/mp4")) { error in
            XCTAssertEqual((error as? BucketError)?.code, .noSuchBucket)
        }
    }
}
