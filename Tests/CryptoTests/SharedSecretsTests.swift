import Foundation
import XCTest
@testable import Crypto

final class SharedSecretsTests: XCTestCase {
    let signing = String(repeating: "ab12-_", count: 6)  // 36 characters
    let keyText = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  // bytes 0...31

    func testParsesTheFileAndRendersItBack() throws {
        let secrets = try SharedSecrets.parse("# comment\n\nsigning-secret=\(signing)\r\nmaster-key=\(keyText)\n")
        XCTAssertEqual(secrets.signingSecret, signing)
        XCTAssertEqual(secrets.masterKey, (0..<32).map { UInt8($0) })
        XCTAssertEqual(try SharedSecrets.parse(secrets.render()), secrets)
        let random = SharedSecrets.random()
        XCTAssertEqual(try SharedSecrets.parse(random.render()), random)
        XCTAssertNotEqual(SharedSecrets.random(), random)
    }

    func testRefusesWhatIsNotExactlyOneOfEach() {
        let bad = [
            "signing-secret=\(signing)\n",                                          // no key
            "master-key=\(keyText)\n",                                              // no secret
            "signing-secret=\(signing)\nmaster-key=\(keyText)\nmaster-key=\(keyText)\n",  // twice
            "signing-secret=\(signing)\nmaster-key=\(keyText)\nextra=1\n",          // unknown name
            "signing-secret=\(signing)\nmaster-key=\(keyText)\njust text\n",        // no '='
            "signing-secret=\(signing)\nmaster-key=AAEC\n",                         // 3 bytes
            "signing-secret=\(signing)\nmaster-key=not base64!\n",
            "signing-secret=\(String(signing.prefix(31)))\nmaster-key=\(keyText)\n",  // one under 32
            "signing-secret=\(String(repeating: "a", count: 257))\nmaster-key=\(keyText)\n",  // one over 256
            "signing-secret=\(signing)\"; x\nmaster-key=\(keyText)\n",              // would end nginx's string
            "signing-secret=$uri\(signing)\nmaster-key=\(keyText)\n",               // an nginx variable
            " signing-secret=\(signing)\nmaster-key=\(keyText)\n",                   // the name exactly
        ]
        for text in bad {
            XCTAssertThrowsError(try SharedSecrets.parse(text), text)
        }
        XCTAssertNoThrow(try SharedSecrets.parse("signing-secret=\(String(repeating: "a", count: 32))\nmaster-key=\(keyText)"))
        XCTAssertNoThrow(try SharedSecrets.parse("signing-secret=\(String(repeating: "a", count: 256))\nmaster-key=\(keyText)"))
    }

    func testCreateWritesMode0600OnceAndLoadRefusesLooseModes() throws {
        let dir = NSTemporaryDirectory() + "shared-secrets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/secrets"
        let secrets = SharedSecrets.random()
        try secrets.create(path: path)
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(try SharedSecrets.load(path: path), secrets)
        XCTAssertThrowsError(try SharedSecrets.random().create(path: path))
        XCTAssertEqual(try SharedSecrets.load(path: path), secrets, "never replaced")
        for mode: mode_t in [0o640, 0o604, 0o620, 0o602, 0o610] {
            chmod(path, mode)
            XCTAssertThrowsError(try SharedSecrets.load(path: path), String(mode, radix: 8))
        }
        chmod(path, 0o400)
        XCTAssertEqual(try SharedSecrets.load(path: path), secrets)
        XCTAssertThrowsError(try SharedSecrets.load(path: dir + "/missing"))
        XCTAssertThrowsError(try SharedSecrets.load(path: dir), "a directory is no secrets file")
    }
}
