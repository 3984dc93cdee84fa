import Dialect
import Domain
import HTTPCore

/// The downloads log: `/api/downloads` (newest first, paginated) and `/api/downloads/:id`.
enum DownloadEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.get("/api/downloads", { call in
            XMLWire.list("downloads", try call.app.downloads.list(accountID: call.accountID, page: call.page), XMLViews.download)
        })
        r.get("/api/downloads/:id", { call in
            guard let id = Int64(call.capture("id")) else { throw DomainError.notFound("download \(call.capture("id")) not found") }
            var w = XMLWriter()
            XMLViews.download(try call.app.downloads.get(accountID: call.accountID, id: id), into: &w)
            return XMLWire.reply(w)
        })
    }
}
