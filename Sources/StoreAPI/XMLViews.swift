import Dialect
import Domain
import HTTPCore

/// Shapes of the store dialect's entities (seed 004): typed elements, no empty typed values.
/// Replies, lists and failures are `XMLWire`'s.
enum XMLViews {
    static func account(_ account: Account, apiKey: String, token: String) -> Response {
        var w = XMLWriter()
        w.open("account")
        // Untyped, exactly as the seed shows the account.
        w.element("id", String(account.id))
        w.element("name", account.name)
        w.element("email", account.email)
        w.element("billing_email", account.billingEmail)
        w.element("shopify_address", account.shopifyAddress)
        w.element("url", account.url)
        w.element("paypal_address", account.paypalAddress)
        w.element("order_expiration_in_hours", String(account.orderExpirationInHours))
        w.element("download_limit_per_item", String(account.downloadLimitPerItem))
        w.element("api_key", apiKey)
        w.element("api_token", token)
        w.close()
        return XMLWire.reply(w)
    }

    static func item(_ item: Item, downloads: [Download], into w: inout XMLWriter) {
        w.open("item")
        w.element("sku", item.sku)
        w.element("name", item.name)
        w.float("price", item.price)
        w.integer("order_count", item.orderCount)
        w.integer("download_count", item.downloadCount)
        w.element("guid", item.guid)
        w.element("permalink", CustomerLinks.permalinkPath(guid: item.guid))
        w.datetime("created_at", item.createdAt)
        w.element("filename", item.file?.filename ?? "")
        w.integer("size_bytes", item.file?.sizeBytes ?? 0)
        w.element("content_type", item.file?.contentType ?? "")
        files(item, into: &w)
        downloadList(downloads, into: &w)
        w.close()
    }

    static func files(_ item: Item, into w: inout XMLWriter) {
        w.openArray("files")
        if let file = item.file { upload(file, element: "file", into: &w) }
        w.close()
    }

    static func upload(_ upload: Upload, element: String = "upload", into w: inout XMLWriter) {
        w.open(element)
        w.integer("id", upload.id)
        w.element("filename", upload.filename)
        w.element("content_type", upload.contentType)
        w.element("ip_address", upload.ipAddress)
        w.datetime("uploaded_at", upload.uploadedAt)
        w.float("size_bytes", Double(upload.sizeBytes))
        w.close()
    }

    static func download(_ d: Download, into w: inout XMLWriter) {
        w.open("download")
        w.integer("id", d.id)
        w.element("filename", d.filename)
        w.element("item_sku", d.itemSKU)
        w.element("order_id", d.orderNumber)
        w.element("ip_address", d.ipAddress)
        w.datetime("downloaded_at", d.downloadedAt)
        w.float("size_bytes", Double(d.sizeBytes))
        w.close()
    }

    static func downloadList(_ list: [Download], into w: inout XMLWriter) {
        w.openArray("downloads")
        for d in list { download(d, into: &w) }
        w.close()
    }

    /// The seed's order shape; `<order_items>` is the last child (one client ignores what follows it).
    static func order(_ order: Order, into w: inout XMLWriter) {
        w.open("order")
        w.element("id", order.number)
        w.element("title", order.title)
        w.element("first_name", order.firstName)
        w.element("last_name", order.lastName)
        w.element("email", order.email)
        w.integer("item_count", order.items.count)
        w.integer("download_count", order.downloadCount)
        w.datetime("expiration_date", order.expirationDate)
        w.integer("download_limit", order.downloadLimit)
        w.datetime("created_at", order.createdAt)
        w.openArray("order_items")
        for item in order.items {
            w.open("order_item")
            w.element("sku", item.sku)
            w.element("item_name", item.itemName)
            w.element("order_id", order.number)
            w.element("guid", item.guid)
            w.integer("download_count", item.downloadCount)
            w.element("link", CustomerLinks.orderItemPath(guid: item.guid))
            w.integer("downloads_remaining", item.downloadsRemaining)
            w.datetime("created_at", item.createdAt)
            w.openArray("downloads")
            for d in item.downloads {
                // Nested in an order item the seed names the size `size`.
                w.open("download")
                w.integer("id", d.id)
                w.element("order_id", d.orderNumber)
                w.element("ip_address", d.ipAddress)
                w.datetime("downloaded_at", d.downloadedAt)
                w.float("size", Double(d.sizeBytes))
                w.close()
            }
            w.close()
            w.close()
        }
        w.close()
        w.close()
    }
}
