import Synchronization

/// A one-way flag shared between the signal-waiting thread and the workers.
final class Atomic: Sendable {
    private let value = Synchronization.Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
