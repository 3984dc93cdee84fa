import Synchronization

/// A claimed job while it runs: the row as claimed, and whether its lease still holds.
/// The heartbeat (another thread, its own connection) marks the lease lost when it finds the
/// row's token changed: the job was cancelled, or its lease ran out and another worker holds
/// it now. The handler then stops: it checks between steps (`check()`), and hands `isLost`
/// to long transfers and subprocesses so they stop too. Whatever it would still write is
/// refused anyway by the fencing at completion (`JobQueue.complete`).
public final class JobLease: Sendable {
    public let job: Job
    private let lost = Atomic<Bool>(false)
    private let completed = Atomic<Bool>(false)

    public init(_ job: Job) { self.job = job }

    public var isLost: Bool { lost.load(ordering: .sequentiallyConsistent) }

    public func markLost() { lost.store(true, ordering: .sequentiallyConsistent) }

    /// Throws `JobError.leaseLost` once the lease is lost: handlers call it between steps.
    public func check() throws {
        if isLost { throw JobError.leaseLost }
    }

    /// Whether the run's end was recorded while the lease held: `JobQueue.complete(_:effects:)`,
    /// or `JobQueue.retry(_:at:error:effects:)`.
    public var isCompleted: Bool { completed.load(ordering: .sequentiallyConsistent) }

    func markCompleted() { completed.store(true, ordering: .sequentiallyConsistent) }
}
