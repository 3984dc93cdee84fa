import Domain
import HTTPCore

/// How a dialect speaks on the wire: at least how it renders a failure. Every JSON dialect uses
/// `JSONWire`; the store dialect uses `XMLWire`.
public protocol WireFormat {
    /// A failure (status, machine code, message) in the dialect's format.
    static func failure(_ failure: Failure) -> Response
    /// Legacy clients that send only GET and POST reach PUT, PATCH and DELETE routes with a POST
    /// carrying `X-HTTP-Method-Override` or `_method=` (query or form); see `Gate`.
    static var acceptsMethodOverride: Bool { get }
    /// The last touch on every reply of the dialect, given the request it answers (`App.handle`
    /// calls it on successes and failures alike). The JSON dialects leave replies as they are.
    static func finish(_ response: inout Response, for request: Request)
}

extension WireFormat {
    public static func finish(_ response: inout Response, for request: Request) {}
}

/// The JSON dialects' wire format: `application/json` replies, failures as
/// `{"error":{"code":…,"message":…}}`, lists in one envelope.
public enum JSONWire: WireFormat {
    public static let acceptsMethodOverride = true

    /// A reply whose one value `body` writes with `JSONWriter`, straight into the reply's bytes.
    public static func reply(status: Int = 200, capacity: Int = 512, _ body: (inout JSONWriter) -> Void) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: JSONWriter.document(capacity: capacity, body))
    }

    /// `{"id": …, "deleted": true}`: what a JSON dialect answers when a delete removed the thing.
    public static func deleted(id: String) -> Response {
        reply { w in
            w.beginObject()
            w.member("id", id)
            w.member("deleted", true)
            w.endObject()
        }
    }

    /// `{"error": {"code": …, "message": …}}` with the failure's status (and its headers:
    /// `Allow` on a 405, `Retry-After` on a 503).
    public static func failure(_ failure: Failure) -> Response {
        let message = failure.status == 401 ? "Send your API key in the X-API-KEY header" : failure.message
        var response = reply(status: failure.status) { w in
            w.beginObject()
            w.key("error")
            w.beginObject()
            w.member("code", failure.code)
            w.member("message", message)
            w.endObject()
            w.endObject()
        }
        response.headers.append(contentsOf: failure.headers)
        return response
    }

    /// The list envelope: `{"<name>": [items…], "page", "per_page", "total", "has_more",
    /// "next_cursor"}`; `item` writes one element. `next_cursor` is the `after` of the next
    /// page (keyset paging: a deep page costs what page 1 costs), null on the last one.
    public static func list<Item>(_ name: StaticString, _ listing: Listing<Item>, _ pagination: Pagination,
                                  item: (Item, inout JSONWriter) -> Void) -> Response {
        reply(capacity: 256 + 768 * listing.items.count) { w in
            w.beginObject()
            w.key(name)
            w.beginArray()
            for element in listing.items { item(element, &w) }
            w.endArray()
            w.member("page", pagination.page)
            w.member("per_page", pagination.perPage)
            w.member("total", listing.total)
            w.member("has_more", listing.hasMore)
            w.member("next_cursor", listing.nextCursor)
            w.endObject()
        }
    }
}

/// The store dialect's wire format (seed 004): `application/xml`, no `Content-Length` (nginx frames
/// the reply chunked, which one real client needs), failures as `<message>…</message>`.
public enum XMLWire: WireFormat {
    public static let acceptsMethodOverride = false

    public static func reply(_ writer: XMLWriter, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "application/xml; charset=utf-8")],
                 body: writer.finish(), sendsContentLength: false)
    }

    public static func message(_ text: String, status: Int = 200) -> Response {
        var w = XMLWriter()
        w.element("message", text)
        return reply(w, status: status)
    }

    public static func ok() -> Response { message("Ok.") }

    /// Where browsers find the stylesheet that renders the store's XML as pages (nginx serves
    /// `www/_xsl/` at `/_xsl/` on both servers).
    public static let stylesheetInstruction = Array(#"<?xml-stylesheet type="text/xsl" href="/_xsl/store.xsl"?>"#.utf8) + [10]

    /// Every XML reply varies by `Accept` (so caches never mix the two forms); a client that
    /// prefers `text/html` to `application/xml` (a browser) also gets, after the declaration, the
    /// stylesheet instruction and `<?fetchgate-api-root …?>` (see `apiRoot`). Any other client
    /// gets the same bytes as ever.
    public static func finish(_ response: inout Response, for request: Request) {
        guard response.body.starts(with: XMLWriter.declaration) else { return }
        response.headers.append(("Vary", "Accept"))
        guard AcceptHeader(request.header("accept")).prefers("text/html", over: "application/xml") else { return }
        let root = Array("<?fetchgate-api-root \(apiRoot(of: request.path))?>".utf8) + [10]
        response.body.insert(contentsOf: stylesheetInstruction + root, at: XMLWriter.declaration.count)
    }

    /// The way back from a store path to `/api/` as a relative link (`/api/items.xml` → "",
    /// `/api/items/A/downloads.xml` → `../../`), which the pages prefix to their links so they
    /// work on the store server (`/api/…`) and through the media server (`/store/api/…`) alike;
    /// `/api/` for a path outside it.
    public static func apiRoot(of path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[1] == "api" else { return "/api/" }
        return String(repeating: "../", count: parts.count - 3)
    }

    /// The status with `<message>…</message>`; 401 asks a browser for Basic credentials.
    public static func failure(_ failure: Failure) -> Response {
        let text = failure.status == 401 ? "Unauthorized: send HTTP Basic key:token" : failure.message
        var response = message(text, status: failure.status)
        if failure.status == 401 { response.headers.append(("WWW-Authenticate", #"Basic realm="Fetchgate""#)) }
        response.headers.append(contentsOf: failure.headers)
        return response
    }

    /// `<root type="array">` with one element per value.
    public static func list<T>(_ root: String, _ values: [T], _ render: (T, inout XMLWriter) -> Void) -> Response {
        var w = XMLWriter(capacity: 512 + values.count * 512)
        w.openArray(root)
        for value in values { render(value, &w) }
        w.close()
        return reply(w)
    }
}
