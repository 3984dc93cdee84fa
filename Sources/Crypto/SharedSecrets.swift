#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The secrets every node of one service shares, in one file (`fetchgate secrets create PATH`,
/// given to each node's `fetchgate serve --secrets-file PATH`): the URL-signing secret (nginx's
/// `secure_link` and the dialects that sign links) and the master key that seals bucket secrets.
///
///     # fetchgate secrets: the same file on every node; keep it mode 0600.
///     signing-secret=<32 to 256 letters, digits, '-' or '_'>
///     master-key=<base64 of 32 bytes>
///
/// Blank lines and `#` lines are skipped; each name appears exactly once; any other line is refused.
public struct SharedSecrets: Equatable, Sendable {
    public let signingSecret: String
    public let masterKey: [UInt8]

    public init(signingSecret: String, masterKey: [UInt8]) throws {
        guard SharedSecrets.isValidSigningSecret(signingSecret) else {
            throw SecretBoxError("a signing secret is 32 to 256 letters, digits, '-' or '_'")
        }
        guard masterKey.count == SecretBox.keyBytes else {
            throw SecretBoxError("a master key is \(SecretBox.keyBytes) bytes, not \(masterKey.count)")
        }
        self.signingSecret = signingSecret
        self.masterKey = masterKey
    }

    /// New random secrets (the signing secret as `Digest.randomToken`, 40 symbols).
    public static func random() -> SharedSecrets {
        // Both are valid by construction.
        try! SharedSecrets(signingSecret: Digest.randomToken(length: 40), masterKey: Digest.randomBytes(SecretBox.keyBytes))
    }

    /// The signing secret is written into nginx's configuration as it is: nothing that could end
    /// its string or start a variable.
    static func isValidSigningSecret(_ secret: String) -> Bool {
        (32...256).contains(secret.utf8.count) && secret.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
    }

    /// Reads the file's text (see the type's comment); throws naming the first problem.
    public static func parse(_ text: String) throws -> SharedSecrets {
        var values: [String: String] = [:]
        // Lines end at any newline (a CRLF is one Character, never split by "\n" alone).
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { throw SecretBoxError("secrets file line \(number + 1): expected name=value") }
            let name = String(line[..<eq])
            guard name == "signing-secret" || name == "master-key" else {
                throw SecretBoxError("secrets file line \(number + 1): unknown name '\(name.prefix(40))'")
            }
            guard values[name] == nil else { throw SecretBoxError("secrets file line \(number + 1): \(name) given twice") }
            values[name] = String(line[line.index(after: eq)...])
        }
        guard let signing = values["signing-secret"] else { throw SecretBoxError("secrets file lacks signing-secret=") }
        guard let encoded = values["master-key"] else { throw SecretBoxError("secrets file lacks master-key=") }
        guard let key = Base64.decode(encoded) else { throw SecretBoxError("secrets file: master-key is not base64") }
        return try SharedSecrets(signingSecret: signing, masterKey: key)
    }

    /// The file's text; `parse` reads it back to the same secrets.
    public func render() -> String {
        """
        # fetchgate secrets: the same file on every node (fetchgate serve --secrets-file); keep it mode 0600.
        signing-secret=\(signingSecret)
        master-key=\(Base64.encode(masterKey))

        """
    }

    /// Reads the file at `path`, refused when it cannot be read or when its group or others have
    /// any permission on it (a shared secret readable by other users is no secret).
    public static func load(path: String) throws -> SharedSecrets {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretBoxError("cannot read the secrets file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SecretBoxError("the secrets file \(path) is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw SecretBoxError("the secrets file \(path) is open to its group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4096,
              let text = String(data: data, encoding: .utf8) else {
            throw SecretBoxError("cannot read the secrets file \(path) (unreadable, over 4 KiB, or not UTF-8)")
        }
        do { return try parse(text) } catch let error as SecretBoxError {
            throw SecretBoxError("\(path): \(error.description)")
        }
    }

    /// Writes these secrets to a new file at `path` (mode 0600, never over an existing file).
    public func create(path: String) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw SecretBoxError("cannot create \(path): \(String(cString: strerror(errno)))"
                                 + (errno == EEXIST ? " (an existing secrets file is never replaced)" : ""))
        }
        defer { close(fd) }
        let bytes = Array(render().utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw SecretBoxError("cannot write \(path)")
        }
    }
}
