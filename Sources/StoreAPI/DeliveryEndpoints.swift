import Domain
import HTTPCore

/// Customer delivery on the store server, without API credentials (the GUID is the secret):
/// `/get/GUID` (order link) and `/permalink/GUID` (item). The download is taken and logged
/// here; nginx sends the bytes from an internal location (`X-Accel-Redirect`), Range included.
enum DeliveryEndpoints {
    typealias Public = @Sendable (Request, [String: String], StoreApp) -> Response

    static func register(_ r: inout Router<StoreRoute>) {
        r.get("/get/:guid", .open { request, captures, app in
            respond { try app.delivery.claimOrderLink(guid: captures["guid"] ?? "", ipAddress: request.remoteAddress) }
        })
        r.get("/permalink/:guid", .open { request, captures, app in
            respond { try app.delivery.claimPermalink(guid: captures["guid"] ?? "", ipAddress: request.remoteAddress) }
        })
    }

    static func respond(_ outcome: () throws -> DeliveryService.Outcome) -> Response {
        let result: DeliveryService.Outcome
        do { result = try outcome() } catch { return page(500, "Something went wrong", "Please try again in a moment.") }
        switch result {
        case .deliver(let upload, _):
            return Response(status: 200, headers: [
                ("X-Accel-Redirect", "/_files/" + upload.storageKey),
                ("Content-Type", upload.contentType),
                ("Content-Disposition", ContentDisposition.attachment(filename: upload.filename)),
                ("Cache-Control", "private, no-store"),
            ])
        case .notFound: return page(404, "Link not found", "This download link does not exist.")
        case .expired: return page(410, "Link expired", "This download link has expired. Please contact the shop for a new one.")
        case .exhausted: return page(403, "No downloads left", "This link has been used as often as it may be. Please contact the shop.")
        case .noFile: return page(404, "File not available", "The shop has not attached a file to this item yet.")
        }
    }

    /// A small human page for people following a link in their email.
    static func page(_ status: Int, _ title: String, _ text: String) -> Response {
        let html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
            <meta name="viewport" content="width=device-width, initial-scale=1"></head>
            <body style="font-family: sans-serif; max-width: 32em; margin: 4em auto;">
            <h1>\(title)</h1><p>\(text)</p></body></html>

            """
        return Response(status: status, headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
                        body: Array(html.utf8))
    }
}
