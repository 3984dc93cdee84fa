import Dialect
import Domain
import HTTPCore

/// Orders: REST verbs and GET/POST command URIs (`create`, `update`, `delete`, `expire`, `send_email`).
enum OrderEndpoints {
    static func register(_ r: inout Routes<StoreApp>) {
        r.any("/api/orders/create", create)
        r.any("/api/orders/:id/update", update)
        r.any("/api/orders/:id/delete", delete)
        r.any("/api/orders/:id/expire", expire)
        r.any("/api/orders/:id/send_email", sendEmail)
        r.get("/api/orders/:id/downloads", downloads)
        r.get("/api/orders", list)
        r.post("/api/orders", create)
        r.get("/api/orders/:id", show)
        r.put("/api/orders/:id", update)
        r.delete("/api/orders/:id", delete)
    }

    static let list: Endpoint = { call in
        let raw = call.params["filter"]?.string?.trimmingWhitespace.lowercased() ?? ""
        guard let filter = raw.isEmpty ? .all : OrderFilter(rawValue: raw) else {
            throw Failure.badRequest("filter must be current, manual or expired")
        }
        let orders = try call.app.orders.list(accountID: call.accountID, filter: filter, page: call.page)
        return XMLWire.list("orders", orders, XMLViews.order)
    }

    static let show: Endpoint = { call in
        render(try call.app.orders.get(accountID: call.accountID, number: call.capture("id")))
    }

    static let create: Endpoint = Idempotency.create { call in
        render(try call.app.orders.create(accountID: call.accountID, try input(call.params)), status: 201)
    }

    static let update: Endpoint = { call in
        var fields = try input(call.params)
        if fields.number == nil { fields.number = call.capture("id") }
        return render(try call.app.orders.update(accountID: call.accountID, number: call.capture("id"), fields))
    }

    static let delete: Endpoint = { call in
        try call.app.orders.delete(accountID: call.accountID, number: call.capture("id"))
        return XMLWire.ok()
    }

    static let expire: Endpoint = { call in
        try call.app.orders.expire(accountID: call.accountID, number: call.capture("id"))
        return XMLWire.ok()
    }

    static let sendEmail: Endpoint = { call in
        // Top-level keys (Ruby client) or inside <order>.
        let fields = call.params["order"].flatMap { $0.isObject ? $0 : nil } ?? call.params
        let reset = try InputReader.boolean(call.params["reset_expiration"] ?? fields["reset_expiration"], field: "reset_expiration")
        let expiry = try InputReader.datetime(call.params["expiration_date"] ?? fields["expiration_date"], field: "expiration_date")
        try call.app.orders.sendEmail(accountID: call.accountID, number: call.capture("id"),
                                      resetExpiration: reset ?? true, expirationDate: expiry)
        return XMLWire.ok()
    }

    static let downloads: Endpoint = { call in
        let order = try call.app.orders.get(accountID: call.accountID, number: call.capture("id"))
        let list = try call.app.downloads.list(accountID: call.accountID, orderID: order.id, page: call.page)
        return XMLWire.list("downloads", list, XMLViews.download)
    }

    static func render(_ order: Order, status: Int = 200) -> Response {
        var w = XMLWriter()
        XMLViews.order(order, into: &w)
        return XMLWire.reply(w, status: status)
    }

    /// Order fields from `<order>…</order>` or `order[…]=…` (or bare top-level keys).
    static func input(_ params: Params) throws -> OrderInput {
        let fields = params["order"].flatMap { $0.isObject ? $0 : nil } ?? params
        func text(_ name: String) -> String? { fields[name]?.string?.trimmingWhitespace }
        var input = OrderInput()
        input.number = text("id").flatMap { $0.isEmpty ? nil : $0 }
        input.title = text("title")
        input.firstName = text("first_name")
        input.lastName = text("last_name")
        input.email = text("email")
        input.expirationDate = try InputReader.datetime(fields["expiration_date"], field: "expiration_date")
        input.downloadLimit = try InputReader.integer(fields["download_limit"], field: "download_limit")
        input.sendEmail = try InputReader.boolean(fields["send_email"] ?? params["send_email"], field: "send_email")
        if let list = fields["order_items"] {
            input.items = try list.elements.compactMap { entry -> OrderItemInput? in
                // `<order_items><order_item>…` without type="array" arrives as {order_item: {…}}.
                let item = entry["sku"] == nil ? (entry.elements.first ?? entry) : entry
                guard let sku = item["sku"]?.string?.trimmingWhitespace, !sku.isEmpty else {
                    if case .string(let s) = item, !s.trimmingWhitespace.isEmpty { return OrderItemInput(sku: s.trimmingWhitespace) }
                    throw DomainError.unprocessable("Every order item needs a SKU")
                }
                return OrderItemInput(sku: sku, downloadsRemaining: try InputReader.integer(item["downloads_remaining"], field: "downloads_remaining"))
            }
        }
        return input
    }
}
