import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `write(2)`, named so it does not collide with ``SecureFile/write(_:to:mode:)``.
private func posixWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, pointer, count)
    #elseif canImport(Musl)
    Musl.write(fd, pointer, count)
    #else
    Darwin.write(fd, pointer, count)
    #endif
}

/// Small file helpers for key material: atomic writes with an exact mode, and reads that fail
/// with a ``TLSMaterialError`` naming the path.
///
/// Writes go to a temporary file in the same directory, created with `O_EXCL` and the final
/// mode (so a private key is never readable by others, whatever the umask), then `fsync`ed
/// and renamed over the destination.
enum SecureFile {
    /// Reads a whole file as UTF-8 text.
    static func readText(_ url: URL) throws(TLSMaterialError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(url.path, Self.reason(error))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .malformed(url.path, "not UTF-8 text")
        }
        return text
    }

    /// Whether a regular file exists at `url`.
    static func exists(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Creates `url` (and parents) as a directory with the given mode if it does not exist.
    static func makeDirectory(_ url: URL, mode: Int = 0o700) throws(TLSMaterialError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw .unwritable(url.path, "exists and is not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: url,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: mode]
            )
        } catch {
            throw .unwritable(url.path, Self.reason(error))
        }
    }

    /// Atomically replaces `url` with `contents`, leaving it with exactly `mode` permissions.
    static func write(_ contents: String, to url: URL, mode: mode_t) throws(TLSMaterialError) {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0 ... .max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw .unwritable(url.path, Self.errnoReason())
        }
        var closed = false
        defer {
            if !closed { _ = close(fd) }
        }
        // The umask may have cleared bits from `mode`; set it exactly.
        guard fchmod(fd, mode) == 0 else {
            let reason = Self.errnoReason()
            unlink(temporary.path)
            throw .unwritable(url.path, reason)
        }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                posixWrite(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = Self.errnoReason()
                unlink(temporary.path)
                throw .unwritable(url.path, reason)
            }
            written += result
        }
        guard fsync(fd) == 0 else {
            let reason = Self.errnoReason()
            unlink(temporary.path)
            throw .unwritable(url.path, reason)
        }
        closed = true
        guard close(fd) == 0 else {
            let reason = Self.errnoReason()
            unlink(temporary.path)
            throw .unwritable(url.path, reason)
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = Self.errnoReason()
            unlink(temporary.path)
            throw .unwritable(url.path, reason)
        }
    }

    private static func errnoReason() -> String {
        String(cString: strerror(errno))
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError {
            return "No such file or directory"
        }
        return nsError.localizedDescription
    }
}
