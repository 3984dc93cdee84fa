import Synchronization

/// A one-way flag shared between threads (e.g. "stop accepting work").
public final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public func set() { value.store(true, ordering: .sequentiallyConsistent) }

    public var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
