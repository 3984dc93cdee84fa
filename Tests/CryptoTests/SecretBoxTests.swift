import Foundation
import XCTest
@testable import Crypto

final class SecretBoxTests: XCTestCase {
    let key = (0..<32).map { UInt8($0) }

    /// Known answers computed independently with Python's `cryptography` (AESGCM, key 00..1f,
    /// nonce 64..6f): `AESGCM(key).encrypt(nonce, plaintext, aad)`, base64 of nonce | ciphertext | tag.
    func testKnownAnswers() throws {
        let box = try SecretBox(key: key)
        let nonce = (100..<112).map { UInt8($0) }
        let sealed = box.seal(Array("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".utf8), nonce: nonce, context: Array("bucket-secret".utf8))
        XCTAssertEqual(sealed, "v1:ZGVmZ2hpamtsbW5vP1G/CguxA+pQJBqlk0ohyg+GQ0TMQ5Ei34PKIbj64BDVpBCMCVneXbxctysE3Sc4m5FbvZ+Rc/k=")
        XCTAssertEqual(try box.open(sealed, context: "bucket-secret"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let empty = box.seal([], nonce: nonce, context: [])
        XCTAssertEqual(empty, "v1:ZGVmZ2hpamtsbW5vYJvVD2rXbfZl8Ei6jF/XBg==")
        XCTAssertEqual(try box.open(empty), "")
    }

    func testRoundTripWithFreshNonces() throws {
        let box = try SecretBox(key: key)
        let a = box.seal("secret ünïcode", context: "x"), b = box.seal("secret ünïcode", context: "x")
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(a.hasPrefix("v1:"))
        XCTAssertEqual(try box.open(a, context: "x"), "secret ünïcode")
        XCTAssertEqual(try box.open(b, context: "x"), "secret ünïcode")
    }

    func testTamperingIsDetected() throws {
        let box = try SecretBox(key: key)
        let sealed = box.seal("the secret", context: "bucket-secret")
        var bytes = Base64.decode(String(sealed.dropFirst(3)))!
        for index in [0, 11, 12, bytes.count - 17, bytes.count - 1] { // nonce, ciphertext, tag
            var changed = bytes
            changed[index] ^= 0x01
            XCTAssertThrowsError(try box.open("v1:" + Base64.encode(changed), context: "bucket-secret"), "byte \(index)")
        }
        bytes.removeLast()
        XCTAssertThrowsError(try box.open("v1:" + Base64.encode(bytes), context: "bucket-secret"))
        XCTAssertThrowsError(try box.open(sealed, context: "other-context"))
        XCTAssertThrowsError(try SecretBox(key: (0..<32).map { UInt8(31 - $0) }).open(sealed, context: "bucket-secret"))
        XCTAssertThrowsError(try box.open("v2:" + sealed.dropFirst(3), context: "bucket-secret"))
        XCTAssertThrowsError(try box.open("v1:not base64!", context: "bucket-secret"))
        XCTAssertThrowsError(try SecretBox(key: [1, 2, 3]))
    }

    func testMasterKeyFileIsCreatedOnceWithMode0600() throws {
        let directory = NSTemporaryDirectory() + "masterkey-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/master.key"
        XCTAssertThrowsError(try MasterKey.load(path: path, create: false))
        let created = try MasterKey.load(path: path, create: true)
        XCTAssertEqual(created.count, 32)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(try MasterKey.load(path: path, create: true), created)
        XCTAssertEqual(try MasterKey.load(path: path, create: false), created)
        chmod(path, 0o644)
        XCTAssertThrowsError(try MasterKey.load(path: path, create: false))
        chmod(path, 0o600)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        XCTAssertThrowsError(try MasterKey.load(path: path, create: true))
    }
}
