/// Runs one kind of job (`Kind`) in the worker: the work, and what the job's subject learns
/// when an attempt fails, each given the worker's `Context` (its settings, its connection).
public protocol JobHandler: SendableMetatype {
    associatedtype Kind: JobKind
    associatedtype Context
    /// Does the work. Between steps it calls `lease.check()`; a long transfer or subprocess
    /// gets `lease.isLost` to stop on. It may complete the job itself, its effects in the
    /// same transaction (`JobQueue.complete(lease) { … }`); a run that returns without
    /// having done so is completed right after.
    static func run(_ payload: Kind.Payload, _ lease: JobLease, in context: Context) throws
    /// An attempt failed, for good (`final`) or to be retried: what the subject learns. Not
    /// called when the lease was lost: the subject is another attempt's business by then.
    static func failed(_ payload: Kind.Payload, _ lease: JobLease, _ error: JobError, final: Bool, in context: Context)
}

extension JobHandler {
    public static func failed(_ payload: Kind.Payload, _ lease: JobLease, _ error: JobError, final: Bool, in context: Context) {}
}

/// The kinds of job a worker runs, one handler each: the worker claims exactly these kinds,
/// each in its kind's lane. A new kind is its handler and one `register` line.
public struct JobRegistry<Context>: Sendable {
    struct Entry: Sendable {
        let lane: JobLane
        let run: @Sendable (Context, JobLease) throws -> Void
        let failed: @Sendable (Context, JobLease, JobError, Bool) -> Void
    }

    private var entries: [String: Entry] = [:]
    /// Every registered kind, in registration order.
    public private(set) var kinds: [String] = []

    public init() {}

    /// The registry with `handler` added; a kind registered twice is a programming error.
    public func register<Handler: JobHandler>(_ handler: Handler.Type) -> JobRegistry where Handler.Context == Context {
        let name = Handler.Kind.name
        precondition(entries[name] == nil, "job kind \(name) is registered twice")
        var registry = self
        registry.entries[name] = Entry(
            lane: Handler.Kind.lane,
            run: { context, lease in
                let payload: Handler.Kind.Payload
                do { payload = try JobPayload.decode(Handler.Kind.Payload.self, from: lease.job.payload) } catch {
                    throw JobError.permanent("unreadable \(name) payload: \(error)")
                }
                try Handler.run(payload, lease, in: context)
            },
            failed: { context, lease, error, final in
                guard let payload = try? JobPayload.decode(Handler.Kind.Payload.self, from: lease.job.payload) else { return }
                Handler.failed(payload, lease, error, final: final, in: context)
            })
        registry.kinds.append(name)
        return registry
    }

    /// The registered kinds that run in `lane`.
    public func kinds(in lane: JobLane) -> [String] {
        kinds.filter { entries[$0]?.lane == lane }
    }

    public func lane(of kind: String) -> JobLane? { entries[kind]?.lane }

    /// Runs a claimed job to its end: its handler's run, then completion; on an error, the
    /// subject learns it (`failed`) and the queue records it, retried or failed for good as
    /// the `JobError` says. A job whose lease was lost just stops: it records nothing, since
    /// the job is cancelled or another attempt's now. `log` gets one line per failure.
    public func execute(_ lease: JobLease, context: Context, queue: JobQueue, log: (String) -> Void) {
        let job = lease.job
        let entry = entries[job.kind]
        do {
            guard let entry else { throw JobError.permanent("no handler for job kind \(job.kind)") }
            try entry.run(context, lease)
            if !lease.isCompleted && !lease.isLost { try queue.complete(lease) }
            if !lease.isCompleted { log("job \(job.id) (\(job.kind)) lost its lease before completing") }
        } catch {
            if lease.isLost {
                log("job \(job.id) (\(job.kind)) attempt \(job.attempts) stopped: it lost its lease")
                return
            }
            let failure = JobError(error)
            log("job \(job.id) (\(job.kind)) attempt \(job.attempts) failed: \(failure.detail)")
            // The subject learns it only while the lease still holds (fenced like a completion).
            _ = try? queue.fail(job, error: failure.detail, retryable: failure.retry == .transient) { final in
                entry?.failed(context, lease, failure, final)
            }
        }
    }
}
