import Dialect
import Domain
import HTTPCore
import Support

/// Customer delivery on the store server, without API credentials (the GUID is the secret):
/// `/get/GUID` (order link) and `/permalink/GUID` (item). The download is taken and logged
/// here; nginx sends the bytes from an internal location (`X-Accel-Redirect`), Range included.
/// A HEAD takes no download, and neither does a GET that can be sent no byte (see `respond`).
enum DeliveryEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.open(get: CustomerLinks.orderItemPrefix + ":guid") { request, captures, app in
            respond(request, app) { try app.delivery.claimOrderLink(guid: captures["guid"] ?? "", $0) }
        }
        r.open(get: CustomerLinks.permalinkPrefix + ":guid") { request, captures, app in
            respond(request, app) { try app.delivery.claimPermalink(guid: captures["guid"] ?? "", $0) }
        }
    }

    /// HEAD looks and takes nothing. A GET or HEAD that nginx would answer without a byte of the
    /// file (304, 412, 416) takes nothing either, and gets that answer from here: were the
    /// prediction ever wrong, the customer is refused, never handed a free download. One judged
    /// to get the whole file is sent all of it (`wholeBehindReply`: a bucket is not asked for a
    /// Range the app found does not apply).
    static func respond(_ request: Request, _ app: StoreApp,
                        _ claim: (DeliveryService.Request) throws -> DeliveryService.Outcome) -> Response {
        var verdict = StaticReply.Verdict.whole
        var described: StaticReply.File?
        func judge(_ upload: Upload) -> StaticReply.Verdict {
            StaticReply.verdict(header: { request.header($0) }) {
                let file = (try? app.host.storage.attributes(key: upload.storageKey)).map { StaticReply.File(size: $0.size, modified: $0.modified) }
                    ?? StaticReply.File(size: upload.sizeBytes, modified: 0)
                described = file
                return file
            }
        }
        let wanted = DeliveryService.Request(ipAddress: request.remoteAddress, takes: request.method != "HEAD") { upload in
            verdict = judge(upload)
            return verdict.sendsBytes
        }
        let result: DeliveryService.Outcome
        do { result = try claim(wanted) } catch { return page(500, "Something went wrong", "Please try again in a moment.") }
        switch result {
        case .deliver(let upload, _):
            // A look was let through without a verdict: judged now, so that it is answered as the GET would be.
            if request.method == "HEAD" {
                verdict = judge(upload)
                if !verdict.sendsBytes { return unsendable(verdict, described) }
            }
            // Re-checked on the way out: a row stored before types were validated can never
            // make a header nginx refuses.
            let type = ContentTypes.normalize(upload.contentType, filename: upload.filename)
            let delivery: FileDelivery
            do {
                delivery = try app.host.storage.delivery(key: upload.storageKey, filename: upload.filename,
                                                             contentType: type, route: verdict == .whole ? .wholeBehindReply : .behindReply)
            } catch {
                logError("store-api: delivering \(upload.storageKey): \(error)")
                return page(500, "Something went wrong", "Please try again in a moment.")
            }
            if let location = delivery.location(base: app.host.publicURL) {
                return Response(status: 302, headers: [("Location", location), ("Cache-Control", "private, no-store")])
            }
            guard case .internalPath(let path) = delivery else { return page(500, "Something went wrong", "Please try again in a moment.") }
            return Response(status: 200, headers: [
                ("X-Accel-Redirect", path),
                ("Content-Type", type),
                ("Content-Disposition", ContentDisposition.attachment(filename: upload.filename)),
                ("Cache-Control", "private, no-store"),
            ])
        case .unsendable:
            return unsendable(verdict, described)
        case .notFound: return page(404, "Link not found", "This download link does not exist.")
        case .expired: return page(410, "Link expired", "This download link has expired. Please contact the shop for a new one.")
        case .exhausted: return page(403, "No downloads left", "This link has been used as often as it may be. Please contact the shop.")
        case .noFile: return page(404, "File not available", "The shop has not attached a file to this item yet.")
        }
    }

    /// The answer to a request that is sent no byte of the file: 304, 412 or 416.
    static func unsendable(_ verdict: StaticReply.Verdict, _ described: StaticReply.File?) -> Response {
        let file = described ?? StaticReply.File(size: 0, modified: 0)
        switch verdict {
        case .notModified:
            return Response(status: 304, headers: [("ETag", file.etag), ("Last-Modified", file.lastModified),
                                                   ("Cache-Control", "private, no-store")])
        case .preconditionFailed:
            return page(412, "Precondition failed", "The file is not the version asked for. No download was used.")
        default:
            var response = page(416, "Range not satisfiable", "The requested part of this file does not exist. No download was used.")
            response.headers.append(("Content-Range", "bytes */\(file.size)"))
            return response
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
