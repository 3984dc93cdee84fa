import CCrypto
import Glibc
@_exported import Formats

/// Hashes, HMAC and randomness from OpenSSL libcrypto.
public enum Digest {
    public static func sha256<S: Sequence>(_ data: S) -> [UInt8] where S.Element == UInt8 {
        evp(EVP_sha256(), Array(data))
    }

    public static func md5<S: Sequence>(_ data: S) -> [UInt8] where S.Element == UInt8 {
        evp(EVP_md5(), Array(data))
    }

    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// MD5 of `length` bytes of an open file from `offset`, read in 1 MiB blocks (flat memory
    /// whatever the size); nil when the file cannot be read that far.
    public static func md5(fileDescriptor fd: Int32, offset: Int64, length: Int64) -> [UInt8]? {
        guard let ctx = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestInit_ex(ctx, EVP_md5(), nil) == 1 else { return nil }
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var position = offset, left = length
        while left > 0 {
            let got = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Int(min(Int64($0.count), left)), off_t(position)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return nil }
            _ = block.withUnsafeBytes { EVP_DigestUpdate(ctx, $0.baseAddress, got) }
            position += Int64(got)
            left -= Int64(got)
        }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        guard EVP_DigestFinal_ex(ctx, &out, &size) == 1 else { return nil }
        return Array(out.prefix(Int(size)))
    }

    private static func evp(_ md: OpaquePointer?, _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        data.withUnsafeBufferPointer { buffer in
            _ = EVP_Digest(buffer.baseAddress, buffer.count, &out, &length, md, nil)
        }
        return Array(out.prefix(Int(length)))
    }

    /// Cryptographically secure random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&out, Int32(count)) == 1, "RAND_bytes failed")
        return out
    }

    /// Constant-time equality for secrets and their digests.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Lowercase hex of a digest (`Hex.encode`).
    public static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// A random token from an unambiguous alphabet (lowercase letters and digits).
    public static func randomToken(length: Int) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789".utf8) // 32 symbols, 5 bits each
        let bytes = randomBytes(length)
        return String(decoding: bytes.map { alphabet[Int($0 & 31)] }, as: UTF8.self)
    }
}
