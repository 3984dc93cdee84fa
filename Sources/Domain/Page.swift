/// A window into a list: how many rows, from where.
public struct Page: Equatable, Sendable {
    public var limit: Int
    public var offset: Int

    public init(limit: Int, offset: Int) {
        self.limit = max(0, limit)
        self.offset = max(0, offset)
    }

    public static let all = Page(limit: Int(Int32.max), offset: 0)
}
