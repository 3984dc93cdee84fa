/// Failures the domain reports; each dialect maps them to its own status and format.
public enum DomainError: Error, Equatable, Sendable {
    /// The thing does not exist for this account (other tenants' things included).
    case notFound(String)
    /// The request conflicts with stored state or breaks a rule (duplicate SKU, unknown SKU in an order).
    case unprocessable(String)
    /// The input is malformed (bad number, bad date, negative limit).
    case invalid(String)

    public var message: String {
        switch self {
        case .notFound(let m), .unprocessable(let m), .invalid(let m): return m
        }
    }
}
