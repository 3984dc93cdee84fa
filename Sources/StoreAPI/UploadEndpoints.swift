import Domain
import HTTPCore
#if canImport(Glibc)
import Glibc
#endif

/// `/api/uploads`: list, show, and `POST` of a multipart file.
///
/// nginx buffers the upload body to a file and passes its path; the file part is copied
/// in the kernel (`copy_file_range`) into storage and published by rename, never read
/// into this process's memory.
enum UploadEndpoints {
    static func register(_ r: inout Router<Endpoint>) {
        r.any("/api/uploads/create", create)
        r.get("/api/uploads", list)
        r.post("/api/uploads", create)
        r.get("/api/uploads/:id", show)
    }

    static let list: Endpoint = { call in
        XMLViews.list("uploads", try call.app.uploads.list(accountID: call.accountID, page: call.page)) { u, w in
            XMLViews.upload(u, into: &w)
        }
    }

    static let show: Endpoint = { call in
        guard let id = Int64(call.capture("id")) else { throw DomainError.notFound("upload \(call.capture("id")) not found") }
        var w = XMLWriter()
        XMLViews.upload(try call.app.uploads.get(accountID: call.accountID, id: id), into: &w)
        return XMLViews.reply(w)
    }

    static let create: Endpoint = { call in
        let request = call.request
        guard request.contentType == "multipart/form-data" else {
            throw InputError(message: "Upload with Content-Type multipart/form-data and a file part named file")
        }
        guard let boundary = Multipart.boundary(fromContentType: request.header("content-type") ?? "") else {
            throw InputError(message: "Malformed multipart: missing boundary")
        }
        let storage = call.app.settings.storage
        // The body: nginx's buffered file, or (without nginx in front) the bytes we were sent.
        var bodyPath: String
        var ownsBodyFile = false
        if let file = request.bodyFile {
            guard isInside(file, call.app.settings.bodyDirectory) else {
                throw InputError(message: "Upload body is not where the web server buffers uploads")
            }
            bodyPath = file
        } else {
            bodyPath = storage.temporaryPath()
            try writeFile(request.body, to: bodyPath)
            ownsBodyFile = true
        }
        defer { if ownsBodyFile { unlink(bodyPath) } }

        let parts: [Multipart.Part]
        do {
            parts = try Multipart.parts(inFileAt: bodyPath, boundary: boundary)
        } catch {
            throw InputError(message: "Malformed multipart: " + ((error as? Multipart.ParseError)?.message ?? "\(error)"))
        }
        let fileParts = parts.filter { $0.filename != nil }
        guard fileParts.count <= 1 else { throw InputError(message: "Send one file per upload") }
        guard let part = fileParts.first else { throw InputError(message: "No file part in the upload") }
        guard part.bodyLength > 0 else { throw InputError(message: "The uploaded file is empty") }
        let name = parts.first { $0.name == "filename" && $0.filename == nil }
            .flatMap { try? fieldValue($0, in: bodyPath) } ?? part.filename ?? ""

        let temp = storage.temporaryPath()
        do {
            try Multipart.copyRange(fromFile: bodyPath, offset: part.bodyOffset, length: part.bodyLength, toFile: temp)
            let upload = try call.app.uploads.record(accountID: call.accountID, filename: name, contentType: part.contentType,
                                                     temporaryPath: temp, ipAddress: request.remoteAddress)
            var w = XMLWriter()
            XMLViews.upload(upload, into: &w)
            return XMLViews.reply(w, status: 201)
        } catch {
            unlink(temp)
            throw error
        }
    }

    /// A small text field of the multipart body (at most 1 KiB).
    static func fieldValue(_ part: Multipart.Part, in path: String) throws -> String? {
        guard part.bodyLength <= 1024 else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: part.bodyLength)
        let n = pread(fd, &buffer, part.bodyLength, off_t(part.bodyOffset))
        guard n == part.bodyLength else { return nil }
        return String(decoding: buffer, as: UTF8.self).trimmingWhitespace
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard fd >= 0 else { throw FileStorage.StorageError(description: "cannot write \(path)") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else { unlink(path); throw FileStorage.StorageError(description: "cannot write \(path)") }
            written += n
        }
    }

    /// True when `path` resolves to a file inside `directory`.
    static func isInside(_ path: String, _ directory: String) -> Bool {
        guard let real = realpath(path, nil), let dir = realpath(directory, nil) else { return false }
        defer { free(real); free(dir) }
        let file = String(cString: real), base = String(cString: dir)
        return file.hasPrefix(base + "/")
    }
}
