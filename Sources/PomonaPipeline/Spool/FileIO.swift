#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// Thin, error-checked wrappers over the POSIX calls the spool, checkpoints and dead letters use.
/// Blocking: callers run them off the cooperative pool where it matters (group commit) or accept
/// page-cache-speed calls (reads, small files).
enum FileIO {
    static func error(_ operation: String, _ path: String, _ code: Int32 = errno) -> SpoolError {
        .io("\(operation) \(path): \(String(cString: strerror(code)))")
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o640) throws(SpoolError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        if fd < 0 { throw error("open", path) }
        return fd
    }

    static func pwriteAll(_ fd: Int32, _ buffer: ByteBuffer, at offset: Int64, path: String) throws(SpoolError) {
        let failure: SpoolError? = buffer.withUnsafeReadableBytes { raw -> SpoolError? in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    return error("write", path)
                }
                done += n
            }
            return nil
        }
        if let failure { throw failure }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SpoolError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw error("write", path)
            }
            done += n
        }
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at end of file).
    static func pread(_ fd: Int32, count: Int, at offset: Int64, path: String) throws(SpoolError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: SpoolError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var done = 0
            while done < count {
                let n = Glibc.pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = error("read", path)
                    break
                }
                if n == 0 { break }
                done += n
            }
            return done
        }
        if let failure { throw failure }
        return buffer
    }

    static func fdatasync(_ fd: Int32, path: String) throws(SpoolError) {
        #if canImport(Glibc)
        if Glibc.fdatasync(fd) != 0 { throw error("fdatasync", path) }
        #else
        if fsync(fd) != 0 { throw error("fsync", path) }
        #endif
    }

    /// Makes a create/rename/unlink in `directory` durable.
    static func syncDirectory(_ directory: String) {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    static func size(_ fd: Int32) -> Int64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Replaces `path` atomically: write a temporary file, fsync it, rename it over, fsync the
    /// directory. A crash leaves either the old or the new content, never a mix.
    static func atomicWrite(_ bytes: [UInt8], to path: String, sync: Bool) throws(SpoolError) {
        let temporary = path + ".tmp"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o640)
        do throws(SpoolError) {
            let failure = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> SpoolError? in
                do throws(SpoolError) { try writeAll(fd, raw, path: temporary) } catch { return error }
                return nil
            }
            if let failure { throw failure }
            if sync, fsync(fd) != 0 { throw error("fsync", temporary) }
        } catch let failure {
            close(fd)
            unlink(temporary)
            throw failure
        }
        close(fd)
        if rename(temporary, path) != 0 { throw error("rename", temporary) }
        if sync { syncDirectory((path as NSString).deletingLastPathComponent) }
    }
}
