#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Multipart {
    /// Failure of `copyRange`; `code` is the `errno` value (0 when not a system error).
    public struct CopyError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public let code: Int32
        public init(_ message: String, code: Int32 = 0) {
            self.message = message
            self.code = code
        }
        public var description: String { code == 0 ? message : "\(message) (errno \(code))" }
    }

    /// Copies `length` bytes at `offset` of `fromFile` into a new file `toFile`
    /// (created with O_CREAT|O_EXCL, mode 0640), then fsyncs and closes it.
    ///
    /// Uses Linux `copy_file_range` (in-kernel copy, reflinks where the file
    /// system supports it) and falls back to pread/pwrite in 1 MiB chunks when
    /// the kernel refuses (EXDEV, ENOSYS, EINVAL, EOPNOTSUPP). On any failure,
    /// including a source shorter than the range, `toFile` is removed.
    public static func copyRange(fromFile: String, offset: Int, length: Int, toFile: String) throws {
        guard offset >= 0, length >= 0, offset <= Int.max - length else {
            throw CopyError("invalid byte range")
        }
        let source = open(fromFile, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw CopyError("cannot open source file", code: errno) }
        defer { close(source) }

        let target = open(toFile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard target >= 0 else { throw CopyError("cannot create target file", code: errno) }
        var targetOpen = true
        var succeeded = false
        defer {
            if !succeeded {
                if targetOpen { close(target) }
                unlink(toFile)
            }
        }

        var copied = 0
        var useKernelCopy = true
        var fallbackBuffer: [UInt8] = []
        while copied < length {
            let remaining = length - copied
            if useKernelCopy, let kernelCopy = FileRangeCopy.copyFileRange {
                var inOffset = Int64(offset + copied)
                var outOffset = Int64(copied)
                let n = kernelCopy(source, &inOffset, target, &outOffset, remaining, 0)
                if n > 0 {
                    copied += n
                    continue
                }
                if n == 0 { throw CopyError("source file shorter than the requested range") }
                let code = errno
                if code == EINTR || code == EAGAIN { continue }
                if code == EXDEV || code == ENOSYS || code == EINVAL || code == EOPNOTSUPP {
                    useKernelCopy = false
                    continue
                }
                throw CopyError("copy_file_range failed", code: code)
            }
            if fallbackBuffer.isEmpty {
                fallbackBuffer = [UInt8](repeating: 0, count: min(remaining, FileRangeCopy.fallbackChunk))
            }
            copied += try FileRangeCopy.copyChunk(
                from: source, at: offset + copied, to: target, at: copied,
                count: min(remaining, fallbackBuffer.count), buffer: &fallbackBuffer)
        }

        while fsync(target) != 0 {
            let code = errno
            if code != EINTR { throw CopyError("fsync failed", code: code) }
        }
        targetOpen = false
        if close(target) != 0 { throw CopyError("close failed", code: errno) }
        succeeded = true
    }
}

enum FileRangeCopy {
    static let fallbackChunk = 1 << 20

    typealias CopyFileRange = @convention(c) (
        Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32
    ) -> Int

    /// glibc's `copy_file_range` (2.27+). The Glibc module does not import it
    /// (it is declared under _GNU_SOURCE), so it is looked up once at runtime
    /// and called through a C function pointer.
    static let copyFileRange: CopyFileRange? = {
        #if os(Linux)
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "copy_file_range") else { return nil }
        return unsafeBitCast(symbol, to: CopyFileRange.self)
        #else
        return nil
        #endif
    }()

    /// Copies up to `count` bytes with pread/pwrite; returns the number copied (> 0).
    static func copyChunk(
        from source: Int32, at inOffset: Int, to target: Int32, at outOffset: Int, count: Int, buffer: inout [UInt8]
    ) throws -> Int {
        precondition(count > 0 && count <= buffer.count)
        return try buffer.withUnsafeMutableBytes { raw throws -> Int in
            var got = 0
            while true {
                got = pread(source, raw.baseAddress, count, off_t(inOffset))
                if got < 0 && errno == EINTR { continue }
                break
            }
            if got < 0 { throw Multipart.CopyError("read failed", code: errno) }
            if got == 0 { throw Multipart.CopyError("source file shorter than the requested range") }
            var written = 0
            while written < got {
                let n = pwrite(target, raw.baseAddress! + written, got - written, off_t(outOffset + written))
                if n < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw Multipart.CopyError("write failed", code: code)
                }
                written += n
            }
            return got
        }
    }
}
