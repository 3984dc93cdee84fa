import Dialect
import Domain
import HTTPCore

/// Items: REST verbs and the equivalent GET/POST command URIs.
enum ItemEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.any("/api/items/create", create)
        r.any("/api/items/:sku/update", update)
        r.any("/api/items/:sku/items", update)
        r.any("/api/items/:sku/delete", delete)
        r.get("/api/items/:sku/downloads", downloads)
        r.get("/api/items/:sku/files", files)
        r.get("/api/items", list)
        r.post("/api/items", create)
        r.get("/api/items/:sku", show)
        r.put("/api/items/:sku", update)
        r.delete("/api/items/:sku", delete)
    }

    static let list: Endpoint = { call in
        let items = try call.app.items.list(accountID: call.accountID, page: call.page)
        return XMLWire.list("items", items) { item, w in XMLViews.item(item, downloads: [], into: &w) }
    }

    static let show: Endpoint = { call in
        let item = try call.app.items.get(accountID: call.accountID, sku: call.capture("sku"))
        let downloads = try call.app.downloads.list(accountID: call.accountID, itemID: item.id, page: .init(limit: 100, offset: 0))
        return render(item, downloads: downloads)
    }

    static let create: Endpoint = Idempotency.create { call in
        let item = try call.app.items.create(accountID: call.accountID, try input(call.params))
        return render(item, downloads: [], status: 201)
    }

    static let update: Endpoint = { call in
        let item = try call.app.items.update(accountID: call.accountID, sku: call.capture("sku"), try input(call.params))
        let downloads = try call.app.downloads.list(accountID: call.accountID, itemID: item.id, page: .init(limit: 100, offset: 0))
        return render(item, downloads: downloads)
    }

    static let delete: Endpoint = { call in
        try call.app.items.delete(accountID: call.accountID, sku: call.capture("sku"))
        return XMLWire.ok()
    }

    static let downloads: Endpoint = { call in
        let item = try call.app.items.get(accountID: call.accountID, sku: call.capture("sku"))
        let list = try call.app.downloads.list(accountID: call.accountID, itemID: item.id, page: call.page)
        return XMLWire.list("downloads", list, XMLViews.download)
    }

    static let files: Endpoint = { call in
        let item = try call.app.items.get(accountID: call.accountID, sku: call.capture("sku"))
        var w = XMLWriter()
        XMLViews.files(item, into: &w)
        return XMLWire.reply(w)
    }

    static func render(_ item: Item, downloads: [Download], status: Int = 200) -> Response {
        var w = XMLWriter()
        XMLViews.item(item, downloads: downloads, into: &w)
        return XMLWire.reply(w, status: status)
    }

    /// Item fields from `<item>…</item>` or `item[…]=…`; a bare top level is accepted too.
    /// Read-only and unknown fields are ignored; an empty `<filename />` means no change.
    static func input(_ params: Params) throws -> ItemInput {
        let fields = params["item"] ?? params
        var input = ItemInput()
        input.sku = fields["sku"]?.string?.trimmingWhitespace
        input.name = fields["name"]?.string?.trimmingWhitespace
        input.price = try InputReader.double(fields["price"], field: "price")
        input.uploadID = try InputReader.integer(fields["upload_id"], field: "upload_id")
        if let name = fields["filename"]?.string?.trimmingWhitespace, !name.isEmpty { input.filename = name }
        return input
    }
}
