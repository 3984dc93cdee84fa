#if canImport(Glibc)
import Glibc
#endif

/// A joinable POSIX thread running a closure.
public final class WorkerThread {
    private var thread: pthread_t

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    public init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var created = pthread_t()
        let rc = pthread_create(&created, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = created
    }

    public func join() { pthread_join(thread, nil) }
}
