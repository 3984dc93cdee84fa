import CSupport
#if canImport(Glibc)
import Glibc
#endif

/// Children of `fetchgate serve` stop with it: if the supervisor dies (even by SIGKILL),
/// the kernel sends them SIGTERM and they shut down gracefully instead of lingering.
public enum ParentWatch {
    /// Call first thing in `main` when started by a supervisor (`--supervised`).
    public static func stopWithParent() {
        let parent = getppid()
        _ = fg_signal_on_parent_death(SIGTERM)
        // The parent may have died before the request took effect.
        if getppid() != parent { exit(0) }
    }
}
