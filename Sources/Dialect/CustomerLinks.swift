/// The store server's customer links: `/get/GUID` (one order item's downloads) and
/// `/permalink/GUID` (an item's file without an order). The store dialect routes them, renders
/// them, and gives the domain the absolute form for order emails; the domain knows only GUIDs.
public struct CustomerLinks: Sendable {
    public static let orderItemPrefix = "/get/"
    public static let permalinkPrefix = "/permalink/"

    /// Absolute base of the store server without a trailing slash; "" gives paths.
    public let base: String

    public init(base: String) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    public static func orderItemPath(guid: String) -> String { orderItemPrefix + guid }
    public static func permalinkPath(guid: String) -> String { permalinkPrefix + guid }

    /// The link an order email carries.
    public func orderItem(guid: String) -> String { base + CustomerLinks.orderItemPath(guid: guid) }
}
