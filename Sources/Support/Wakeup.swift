#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A nudge between processes on one machine, over a unix datagram socket: a dialect that may
/// have queued work sends one byte after answering (`WakeSender`), and the worker's threads,
/// waiting between polls (`Wakeup.wait`), claim at once instead of at their next poll. Only a
/// shortcut: a lost nudge (the worker restarting, a full socket buffer) costs one poll interval,
/// never a job, since the queue in the database stays the truth.
public final class Wakeup: @unchecked Sendable {
    private let fd: Int32
    private let condition = Condition()
    private var generation: UInt64 = 0
    private var thread: WorkerThread?
    private let stopped = Flag()

    /// Binds `path` (a stale socket file there is replaced) and starts the thread that reads it.
    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Wakeup.failure("socket", path) }
        unlink(path)
        var address = try Wakeup.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let error = Wakeup.failure("bind", path)
            close(fd)
            throw error
        }
        chmod(path, 0o600)
        thread = WorkerThread { [unowned self] in self.readLoop() }
    }

    /// Waits until a nudge arrives or `milliseconds` pass; true when nudged. A nudge that came
    /// since `since` (the generation the caller last saw) returns at once.
    @discardableResult
    public func wait(milliseconds: Int, since seen: inout UInt64) -> Bool {
        let deadline = Condition.deadline(afterMilliseconds: milliseconds)
        condition.lock()
        defer { condition.unlock() }
        while generation == seen && !stopped.isSet {
            if !condition.wait(until: deadline) { break }
        }
        let nudged = generation != seen
        seen = generation
        return nudged
    }

    /// The current generation, for a first `wait`.
    public var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    public func stop() {
        stopped.set()
        shutdown(fd, Int32(SHUT_RDWR))
        condition.lock()
        condition.broadcast()
        condition.unlock()
        // Closed only once the reader is gone: a number closed under it could be reused by another open.
        thread?.join()
        close(fd)
    }

    private func readLoop() {
        var byte = [UInt8](repeating: 0, count: 64)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !stopped.isSet {
            // Polled with a timeout so `stop` is seen even where closing does not wake recv.
            guard poll(&pfd, 1, 200) > 0 else { continue }
            let n = recv(fd, &byte, byte.count, Int32(MSG_DONTWAIT))
            if n < 0 && errno != EAGAIN && errno != EINTR { return }
            guard n >= 0 else { continue }
            condition.lock()
            generation &+= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw WakeupError(description: "wake socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return address
    }

    static func failure(_ call: String, _ path: String) -> WakeupError {
        WakeupError(description: "wake socket \(path): \(call): \(String(cString: strerror(errno)))")
    }
}

/// The wake socket could not be made (a path too long, bind refused).
public struct WakeupError: Error, CustomStringConvertible {
    public let description: String
}

/// Sends nudges to a `Wakeup` (non-blocking; a missing listener or a full buffer is ignored).
public final class WakeSender: @unchecked Sendable {
    private let fd: Int32
    private let address: sockaddr_un

    public init?(path: String) {
        guard let address = try? Wakeup.address(path) else { return nil }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.address = address
    }

    deinit { close(fd) }

    public func send() {
        var one: UInt8 = 1
        var address = self.address
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, &one, 1, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}

/// A mutex and a condition variable (pthreads; waits measured on the monotonic clock).
final class Condition: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits (the lock held) until woken or `deadline` passes; false once it has passed.
    func wait(until deadline: timespec) -> Bool {
        var deadline = deadline
        return pthread_cond_timedwait(cond, mutex, &deadline) != ETIMEDOUT
    }

    static func deadline(afterMilliseconds milliseconds: Int) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int(now.tv_nsec) + (milliseconds % 1000) * 1_000_000
        return timespec(tv_sec: now.tv_sec + milliseconds / 1000 + nanoseconds / 1_000_000_000,
                        tv_nsec: nanoseconds % 1_000_000_000)
    }
}
