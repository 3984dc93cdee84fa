import Foundation
import Outbound
import XCTest
@testable import Buckets

/// A multipart upload reads the file part by part (pread as libcurl asks, MD5 in 1 MiB blocks):
/// the process's peak resident memory grows by far less than the file. Measured with the kernel's
/// own peak (VmHWM), reset before the upload (`/proc/self/clear_refs` 5).
/// `FETCHGATE_UPLOAD_BYTES` sets the size (default 256 MiB; `make bench`-style runs use 1 GiB).
final class FlatMemoryTests: XCTestCase {
    func kilobytes(_ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
    }

    func testMultipartUploadMemoryStaysFlat() throws {
        let size = Int64(ProcessInfo.processInfo.environment["FETCHGATE_UPLOAD_BYTES"].flatMap { Int64($0) } ?? (256 << 20))
        let directory = NSTemporaryDirectory() + "flat-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/big.bin"
        // Written in 1 MiB chunks (the test holds no more than that either).
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var chunk = Data(count: 1 << 20)
        for i in 0..<Int(size >> 20) {
            chunk.withUnsafeMutableBytes { raw in for j in stride(from: 0, to: raw.count, by: 4096) { raw[j] = UInt8(truncatingIfNeeded: i &+ j) } }
            handle.write(chunk)
        }
        try handle.close()
        let moto = try MotoServer()
        defer { moto.stop() }
        try moto.createBucket("media")
        let s3 = S3Client(endpoint: moto.endpoint, region: "us-east-1", bucket: "media", accessKeyID: "AKIDEXAMPLE", secret: "secret",
                          pathStyle: true, policy: AddressPolicy(allowedPrivateHosts: ["127.0.0.1"]))
        let before = kilobytes("VmRSS")
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let started = Date()
        let stored = try s3.put(localPath: path, key: "big.bin", contentType: "application/octet-stream")
        let seconds = Date().timeIntervalSince(started)
        let peak = kilobytes("VmHWM")
        XCTAssertEqual(stored.size, size)
        XCTAssertTrue(stored.etag?.hasSuffix("-\((size + (8 << 20) - 1) / (8 << 20))") == true, stored.etag ?? "")
        let growth = (peak - before) / 1024
        print("multipart upload of \(size >> 20) MiB to moto: \(String(format: "%.1f", seconds)) s, "
              + "\(String(format: "%.0f", Double(size >> 20) / seconds)) MiB/s, RSS before \(before / 1024) MiB, peak \(peak / 1024) MiB (+\(growth) MiB)")
        XCTAssertLessThan(growth, 64, "peak resident memory grew by \(growth) MiB")
    }
}
