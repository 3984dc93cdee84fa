import Dialect
import Domain
import HTTPCore

/// `/api/uploads`: list, show, and `POST` of a multipart file.
///
/// nginx buffers the upload body to a file and passes its path; the file part is copied
/// in the kernel (`copy_file_range`) into storage and published by rename, never read
/// into this process's memory.
enum UploadEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.any("/api/uploads/create", create)
        r.get("/api/uploads", list)
        r.post("/api/uploads", create)
        r.get("/api/uploads/:id", show)
    }

    static let list: Endpoint = { call in
        XMLWire.list("uploads", try call.app.uploads.list(accountID: call.accountID, page: call.page)) { u, w in
            XMLViews.upload(u, into: &w)
        }
    }

    static let show: Endpoint = { call in
        guard let id = Int64(call.capture("id")) else { throw DomainError.notFound("upload \(call.capture("id")) not found") }
        var w = XMLWriter()
        XMLViews.upload(try call.app.uploads.get(accountID: call.accountID, id: id), into: &w)
        return XMLWire.reply(w)
    }

    static let create: Endpoint = Idempotency.create { call in
        let body = try Uploads.open(call)
        defer { body.close() }
        let files = body.fileParts
        guard files.count <= 1 else { throw Failure.badRequest("Send one file per upload") }
        guard let part = files.first else { throw Failure.badRequest("No file part in the upload") }
        let name = body.field("filename").flatMap { $0.isEmpty ? nil : $0 } ?? part.filename ?? ""
        let upload = try Uploads.receive(part, of: body, call) { temp in
            try call.app.uploads.record(accountID: call.accountID, filename: name, contentType: part.contentType,
                                        temporaryPath: temp, ipAddress: call.request.remoteAddress)
        }
        var w = XMLWriter()
        XMLViews.upload(upload, into: &w)
        return XMLWire.reply(w, status: 201)
    }
}
