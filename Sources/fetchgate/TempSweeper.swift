import Foundation

/// Removes files left in temp directories by processes that died mid-request (a kill -9 of
/// files-api or store-api during an upload leaves its copy in data/tmp; a killed nginx leaves its
/// body buffers). Only files not written for `maxAge` seconds go: an upload in flight keeps its
/// file's mtime fresh while bytes arrive, and nginx hands a finished body on at once.
struct TempSweeper {
    let directories: [String]
    let maxAge: Double

    /// Removes every regular file (in any subdirectory, symlinks not followed) whose mtime is older
    /// than `maxAge` seconds; returns how many went. Directories stay: nginx and the apps expect them.
    @discardableResult
    func sweep(now: Double = Date().timeIntervalSince1970) -> Int {
        var removed = 0
        for directory in directories { removed += sweep(directory, cutoff: now - maxAge, depth: 0) }
        return removed
    }

    private func sweep(_ directory: String, cutoff: Double, depth: Int) -> Int {
        guard depth < 8, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                removed += sweep(path, cutoff: cutoff, depth: depth + 1)
            case S_IFREG:
                let mtime = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
                if mtime < cutoff && unlink(path) == 0 { removed += 1 }
            default:
                continue
            }
        }
        return removed
    }
}
