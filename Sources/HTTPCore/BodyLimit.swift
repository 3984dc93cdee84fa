/// The largest request body outside upload locations: one value, which `fetchgate serve` renders
/// into nginx (`client_max_body_size`) and passes to every dialect (`--max-body`).
public enum BodyLimit {
    public static let defaultBytes = 8 << 20

    /// The nginx spelling of a size in bytes (`8m` for 8 MiB).
    public static func nginx(_ bytes: Int) -> String {
        if bytes > 0 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)m" }
        if bytes > 0 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)k" }
        return String(bytes)
    }
}
