import Dialect
import Domain
import HTTPCore
import Outbound
import Support

/// `/files`: list, create (upload or URL import), show, delete, download (302 to a signed URL).
enum FileEndpoints {
    static func register(_ r: inout Routes<FilesApp>) {
        r.get("/files", list)
        r.post("/files", create)
        r.get("/files/:id", show)
        r.delete("/files/:id", delete)
        r.get("/files/:id/:filename", download)
    }

    static let list: FilesEndpoint = { call in
        let pagination = Pagination(call.params, maxPerPage: Pagination.maxJSONPerPage)
        let listing = try call.app.files.list(accountID: call.accountID,
                                              page: Page(limit: pagination.perPage, offset: pagination.offset, after: pagination.after))
        return JSONWire.list("files", listing, pagination) { file, w in
            JSONViews.file(file, downloadBase: call.app.host.publicURL, into: &w)
        }
    }

    static let show: FilesEndpoint = { call in
        let file = try call.app.files.get(accountID: call.accountID, id: call.capture("id"))
        return JSONViews.file(file, downloadBase: call.app.host.publicURL)
    }

    static let delete: FilesEndpoint = { call in
        let id = call.capture("id")
        try call.app.files.delete(accountID: call.accountID, id: id)
        return JSONWire.deleted(id: id)
    }

    /// 302 to a short-lived link that nginx checks (`secure_link`) and serves (Range included).
    static let download: FilesEndpoint = { call in
        let file = try call.app.files.get(accountID: call.accountID, id: call.capture("id"))
        guard file.status == .ready, let key = file.storageKey else {
            throw Failure(status: 409, code: "not_ready", message: "File \(file.id) is \(file.status.rawValue), not ready")
        }
        return try SignedDownload.redirect(call.app.host, key: key, filename: file.name,
                                           contentType: file.contentType ?? ContentTypes.guess(filename: file.name), params: call.params)
    }

    /// multipart/form-data with either `file` (binary) or `file_url`, and an optional `name`.
    static let create: FilesEndpoint = Idempotency.create { call in
        let body = try Uploads.open(call)
        defer { body.close() }
        let fileParts = body.fileParts
        let url = body.field("file_url").flatMap { $0.isEmpty ? nil : $0 }
        let name = body.field("name").flatMap { $0.isEmpty ? nil : $0 }
        guard fileParts.count <= 1 else { throw Failure(status: 400, code: "bad_request", message: "Send one file per request") }
        switch (fileParts.first, url) {
        case (nil, nil):
            throw Failure(status: 400, code: "bad_request", message: "Send either file (binary) or file_url")
        case (.some, .some):
            throw Failure(status: 400, code: "bad_request", message: "Send either file or file_url, not both")
        case (nil, .some(let url)):
            try FieldRules.text(url, field: "file_url", maxBytes: FieldRules.maxURLBytes)
            do { _ = try call.app.policy.check(url: url) } catch let error as OutboundError {
                // The reason, not the resolver's answer: a reply never says what an internal name resolves to.
                let problem: MediaFileError = switch error.reason {
                case .blockedAddress: MediaFileError(.blockedAddress)
                case .unresolvable: MediaFileError(.hostNotFound)
                default: MediaFileError(.invalidURL)
                }
                throw Failure(status: 400, code: "url_not_allowed", message: problem.message)
            }
            let file = try call.app.files.createFromURL(accountID: call.accountID, url: url, name: name)
            return JSONViews.file(file, downloadBase: nil, status: 201)
        case (.some(let part), nil):
            let file = try Uploads.receive(part, of: body, call) { temp in
                try call.app.files.createFromUpload(accountID: call.accountID, name: name ?? part.filename ?? "",
                                                    temporaryPath: temp, contentType: part.contentType)
            }
            return JSONViews.file(file, downloadBase: nil, status: 201)
        }
    }
}
