import Formats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The message a customer gets for an order: each item with its absolute link, and the expiry.
/// Composed when queued (what was promised is what is sent), delivered later by the worker.
public struct OrderEmail: Codable, Equatable, Sendable {
    public var to: String
    public var toName: String
    public var subject: String
    public var body: String
    public var orderNumber: String

    public static func compose(_ order: Order, link: (_ guid: String) -> String) -> OrderEmail {
        let name = [order.firstName, order.lastName].filter { !$0.isEmpty }.joined(separator: " ")
        var lines = ["Hello\(order.firstName.isEmpty ? "" : " " + order.firstName),", "",
                     "Thank you for your order \(order.title.isEmpty ? "#" + order.number : order.title). Your downloads:", ""]
        for item in order.items {
            lines.append("  \(item.itemName.isEmpty ? item.sku : item.itemName)")
            lines.append("  \(link(item.guid))")
            lines.append("  (\(item.downloadsRemaining) download\(item.downloadsRemaining == 1 ? "" : "s") left)")
            lines.append("")
        }
        lines.append("These links expire on \(DateTime.humanDate(order.expirationDate)).")
        return OrderEmail(to: order.email, toName: name, subject: "Your downloads for order \(order.number)",
                          body: lines.joined(separator: "\n") + "\n", orderNumber: order.number)
    }

}

/// Send an order's email (queued with the order, in the same transaction).
public enum OrderEmailJob: JobKind {
    public typealias Payload = OrderEmail
    public static let name = "order-email"
    public static let lane = JobLane.short
}
