import Store

/// A tenant. Everything else belongs to exactly one account.
public struct Account: Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var email: String
    public var billingEmail: String
    public var shopifyAddress: String
    public var url: String
    public var paypalAddress: String
    public var orderExpirationInHours: Int64
    public var downloadLimitPerItem: Int64
    public var createdAt: Int64

    init(row: Row) {
        id = row.int("id") ?? 0
        name = row.string("name") ?? ""
        email = row.string("email") ?? ""
        billingEmail = row.string("billing_email") ?? ""
        shopifyAddress = row.string("shopify_address") ?? ""
        url = row.string("url") ?? ""
        paypalAddress = row.string("paypal_address") ?? ""
        orderExpirationInHours = row.int("order_expiration_in_hours") ?? 240
        downloadLimitPerItem = row.int("download_limit_per_item") ?? 3
        createdAt = row.int("created_at") ?? 0
    }
}

/// An authenticated caller: the account plus the credential pair it used.
public struct Principal: Equatable, Sendable {
    public let account: Account
    public let credentialID: Int64
    public let apiKey: String
    /// The token exactly as the caller sent it (never stored in clear).
    public let token: String
}

/// One API key/token pair of an account, as listed by the admin CLI.
public struct CredentialInfo: Equatable, Sendable {
    public let id: Int64
    public let apiKey: String
    public let label: String
    public let createdAt: Int64
    public let revokedAt: Int64?
}
