import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// A digest of what a request asks for: SHA-256 over its method, path, query, media type and
/// content. Two sends of the same request give the same fingerprint; a changed field, byte
/// or file gives another.
///
/// Multipart bodies are fingerprinted by their parts (name, filename, type, length and bytes
/// of each), not by the raw body: clients pick a new random boundary for every send, so the
/// same upload retried differs in its delimiter lines. File contents are hashed in 1 MiB
/// blocks read from the body file (one sequential read; nothing is held in memory), and the
/// block digests enter the fingerprint.
public enum RequestFingerprint {
    static let block = 1 << 20

    /// Hex SHA-256. `bodyDirectory` is where the web server buffers bodies to files; a body file
    /// elsewhere is not read (the endpoint refuses it anyway).
    public static func of(_ request: Request, bodyDirectory: String) -> String {
        var input = Fields()
        input.add(request.method.utf8)
        input.add(request.path.utf8)
        input.add(request.rawQuery.utf8)
        input.add(request.contentType.utf8)

        let boundary = request.contentType == "multipart/form-data"
            ? Multipart.boundary(fromContentType: request.header("content-type") ?? "") : nil
        if let file = request.bodyFile {
            guard BodyFile.isInside(file, bodyDirectory) else {
                input.add("unreadable".utf8)
                return Digest.hex(Digest.sha256(input.bytes))
            }
            if let boundary, let parts = try? Multipart.parts(inFileAt: file, boundary: boundary) {
                for part in parts {
                    input.describe(part)
                    for digest in blockDigests(file: file, offset: part.bodyOffset, length: part.bodyLength) { input.add(digest) }
                }
            } else {
                for digest in blockDigests(file: file, offset: 0, length: fileSize(file)) { input.add(digest) }
            }
        } else if let boundary, let parts = try? Multipart.parts(in: request.body, boundary: boundary) {
            for part in parts {
                input.describe(part)
                var start = part.bodyOffset
                let end = part.bodyOffset + part.bodyLength
                while start < end {
                    let stop = min(end, start + block)
                    input.add(Digest.sha256(request.body[start..<stop]))
                    start = stop
                }
            }
        } else {
            input.add(Digest.sha256(request.body))
        }
        return Digest.hex(Digest.sha256(input.bytes))
    }

    /// Length-prefixed fields, so no two different field lists share an encoding.
    struct Fields {
        var bytes: [UInt8] = []

        mutating func add<C: Collection>(_ field: C) where C.Element == UInt8 {
            bytes.append(contentsOf: String(field.count).utf8)
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: field)
        }

        mutating func describe(_ part: Multipart.Part) {
            add("part".utf8)
            add(part.name.utf8)
            add((part.filename.map { "file:" + $0 } ?? "field").utf8)
            add((part.contentType ?? "").utf8)
            add(String(part.bodyLength).utf8)
        }
    }

    /// SHA-256 of each 1 MiB block of `length` bytes at `offset`; a short read ends the list
    /// with a marker, so a truncated file never matches the whole one.
    static func blockDigests(file: String, offset: Int, length: Int) -> [[UInt8]] {
        var digests: [[UInt8]] = []
        var done = 0
        while done < length {
            let size = min(block, length - done)
            guard let bytes = BodyFile.read(file, offset: offset + done, length: size) else {
                digests.append(Array("short read".utf8))
                break
            }
            digests.append(Digest.sha256(bytes))
            done += size
        }
        return digests
    }

    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}
