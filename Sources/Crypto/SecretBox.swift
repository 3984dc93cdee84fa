import CCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Secrets at rest (bucket keys, SAS tokens): AES-256-GCM under a 32-byte master key, through
/// OpenSSL's EVP interface. Each seal draws a fresh random 12-byte nonce. The sealed text is
/// `v1:` + base64(nonce | ciphertext | 16-byte tag); opening checks the tag, so any change to
/// the text, or another key, is refused rather than decrypted into garbage.
public struct SecretBox: Sendable {
    public static let keyBytes = 32
    public static let nonceBytes = 12
    public static let tagBytes = 16
    /// Prefix of the sealed text: which format (and cipher) it is in.
    public static let version = "v1:"

    private let key: [UInt8]

    public init(key: [UInt8]) throws {
        guard key.count == SecretBox.keyBytes else { throw SecretBoxError("a master key is \(SecretBox.keyBytes) bytes, not \(key.count)") }
        self.key = key
    }

    /// Seals `plaintext`; `context` (associated data, e.g. "bucket-secret") must be the same to open it.
    public func seal(_ plaintext: String, context: String = "") -> String {
        seal(Array(plaintext.utf8), nonce: Digest.randomBytes(SecretBox.nonceBytes), context: Array(context.utf8))
    }

    /// The plaintext, or throws when the text is not a sealed secret of this key and context.
    public func open(_ sealed: String, context: String = "") throws -> String {
        guard sealed.hasPrefix(SecretBox.version),
              let bytes = Base64.decode(String(sealed.dropFirst(SecretBox.version.count))),
              bytes.count >= SecretBox.nonceBytes + SecretBox.tagBytes else {
            throw SecretBoxError("not a sealed secret")
        }
        let nonce = Array(bytes.prefix(SecretBox.nonceBytes))
        let ciphertext = Array(bytes.dropFirst(SecretBox.nonceBytes).dropLast(SecretBox.tagBytes))
        let tag = Array(bytes.suffix(SecretBox.tagBytes))
        guard let plain = crypt(encrypt: false, ciphertext, nonce: nonce, aad: Array(context.utf8), tag: tag),
              let text = String(validating: plain.bytes, as: UTF8.self) else {
            throw SecretBoxError("the sealed secret does not open with this key (changed, or sealed under another key)")
        }
        return text
    }

    /// Sealing with a given nonce: for known-answer tests only (a nonce must never repeat under one key).
    func seal(_ plaintext: [UInt8], nonce: [UInt8], context: [UInt8]) -> String {
        guard let sealed = crypt(encrypt: true, plaintext, nonce: nonce, aad: context, tag: nil) else {
            preconditionFailure("AES-256-GCM encryption failed in OpenSSL")
        }
        return SecretBox.version + Base64.encode(nonce + sealed.bytes + sealed.tag)
    }

    /// One EVP AES-256-GCM pass; nil when OpenSSL refuses (on decryption: the tag does not match).
    private func crypt(encrypt: Bool, _ input: [UInt8], nonce: [UInt8], aad: [UInt8],
                       tag expected: [UInt8]?) -> (bytes: [UInt8], tag: [UInt8])? {
        guard nonce.count == SecretBox.nonceBytes, let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let begin = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
        let update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate
        let final = encrypt ? EVP_EncryptFinal_ex : EVP_DecryptFinal_ex
        guard begin(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1,
              begin(ctx, nil, nil, key, nonce) == 1 else { return nil }
        var length: Int32 = 0
        if !aad.isEmpty {
            guard update(ctx, nil, &length, aad, Int32(aad.count)) == 1 else { return nil }
        }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var written: Int32 = 0
        if !input.isEmpty {
            guard update(ctx, &out, &written, input, Int32(input.count)) == 1 else { return nil }
        }
        if var tag = expected {
            guard tag.count == SecretBox.tagBytes,
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tag.count), &tag) == 1 else { return nil }
        }
        var tail: Int32 = 0
        let ok = out.withUnsafeMutableBufferPointer { final(ctx, $0.baseAddress! + Int(written), &tail) }
        guard ok == 1 else { return nil }
        var tag = [UInt8](repeating: 0, count: SecretBox.tagBytes)
        if encrypt {
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tag.count), &tag) == 1 else { return nil }
        }
        return (Array(out.prefix(Int(written + tail))), tag)
    }
}

public struct SecretBoxError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The master key file: 32 random bytes, mode 0600, outside the database.
public enum MasterKey {
    /// Reads the key at `path`, creating it first (32 random bytes, mode 0600, exclusively, so
    /// two processes starting at once never write two keys) when `create` and it is absent.
    public static func load(path: String, create: Bool) throws -> [UInt8] {
        if create {
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                defer { close(fd) }
                let key = Digest.randomBytes(SecretBox.keyBytes)
                let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard written == key.count, fsync(fd) == 0 else {
                    unlink(path)
                    throw SecretBoxError("cannot write the master key file \(path)")
                }
                return key
            } else if errno != EEXIST {
                throw SecretBoxError("cannot create the master key file \(path): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw SecretBoxError("cannot read the master key file \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw SecretBoxError("the master key file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count == SecretBox.keyBytes else {
            throw SecretBoxError("the master key file \(path) does not hold exactly \(SecretBox.keyBytes) bytes")
        }
        return Array(data)
    }
}
