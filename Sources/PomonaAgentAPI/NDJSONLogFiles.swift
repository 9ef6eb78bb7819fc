#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOCore

/// Durable, rotating newline-delimited JSON files for osquery logs: `osquery_result.log` and
/// `osquery_status.log` in one directory (like Fleet's filesystem logger), one agent line per line.
///
/// Durability contract: ``append(_:)`` returns after the batch's bytes were written and
/// `fdatasync`ed, so an acknowledged batch survives kill -9 and power loss. Concurrent appends are
/// group-committed: while one sync runs, new batches queue and the next write+sync takes them all,
/// which keeps throughput high with one sync per round rather than per request. If a write fails
/// (disk full), the file is cut back to its last good length so no half line is left behind, and
/// every waiting batch gets the error (its agent keeps the logs and resends).
public actor NDJSONLogFiles: LogSink {
    public struct Options: Sendable {
        /// Rotate a file when it grows past this size.
        public var maxFileBytes: Int64 = 512 << 20
        /// Rotated files kept per kind (`.1` newest … `.N` oldest).
        public var keepFiles = 10
        /// `false` skips fdatasync (faster, but an OS crash can lose acknowledged lines).
        public var sync = true
        public init() {}
    }

    let directory: URL
    let options: Options
    let logger: Logger
    private var files: [LogBatch.Kind: OpenFile] = [:]
    private var pending: [(LogBatch, CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    public private(set) var linesWritten = 0
    public private(set) var syncs = 0

    struct OpenFile {
        var fd: Int32
        var size: Int64
    }

    public init(directory: URL, options: Options = Options(), logger: Logger) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.options = options
        self.logger = logger
    }

    public func path(for kind: LogBatch.Kind) -> URL { directory.appendingPathComponent("osquery_\(kind.rawValue).log") }

    public func append(_ batch: LogBatch) async throws {
        if batch.lines.isEmpty { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            pending.append((batch, continuation))
            if !flushing {
                flushing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let round = pending
            pending = []
            var failures: [LogBatch.Kind: any Error] = [:]
            for kind in [LogBatch.Kind.result, .status] {
                let batches = round.filter { $0.0.kind == kind }.map(\.0)
                if batches.isEmpty { continue }
                do { try writeAndSync(batches, kind: kind) } catch { failures[kind] = error }
            }
            for (batch, continuation) in round {
                if let error = failures[batch.kind] { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
        flushing = false
    }

    private func writeAndSync(_ batches: [LogBatch], kind: LogBatch.Kind) throws {
        var file = try openFile(kind)
        var buffer = ByteBuffer()
        var count = 0
        for batch in batches {
            for var line in batch.lines {
                // Lines are JSON objects; a raw newline can only be insignificant whitespace between
                // tokens (control characters are invalid inside strings), so it is safe to blank out.
                if line.readableBytesView.contains(0x0A) || line.readableBytesView.contains(0x0D) {
                    let bytes = line.readBytes(length: line.readableBytes)!.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
                    buffer.writeBytes(bytes)
                } else {
                    buffer.writeBuffer(&line)
                }
                buffer.writeInteger(UInt8(0x0A))
                count += 1
            }
        }
        let start = file.size
        do {
            try buffer.withUnsafeReadableBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(file.fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw POSIXFileError(operation: "write", path: path(for: kind).path, code: errno)
                    }
                    offset += n
                }
            }
            if options.sync, fdatasync(file.fd) != 0 {
                throw POSIXFileError(operation: "fdatasync", path: path(for: kind).path, code: errno)
            }
        } catch {
            // Leave no partial line: cut the file back to where this round started.
            _ = ftruncate(file.fd, off_t(start))
            logger.error("log file write failed", metadata: ["path": "\(path(for: kind).path)", "error": "\(error)"])
            throw error
        }
        file.size += Int64(buffer.readableBytes)
        files[kind] = file
        linesWritten += count
        syncs += 1
        if file.size >= options.maxFileBytes { rotate(kind) }
    }

    private func openFile(_ kind: LogBatch.Kind) throws -> OpenFile {
        if let file = files[kind] { return file }
        let path = path(for: kind).path
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        if fd < 0 { throw POSIXFileError(operation: "open", path: path, code: errno) }
        var info = stat()
        fstat(fd, &info)
        let file = OpenFile(fd: fd, size: Int64(info.st_size))
        files[kind] = file
        return file
    }

    private func rotate(_ kind: LogBatch.Kind) {
        guard let file = files.removeValue(forKey: kind) else { return }
        Glibc.close(file.fd)
        let base = path(for: kind).path
        let fm = FileManager.default
        try? fm.removeItem(atPath: "\(base).\(options.keepFiles)")
        if options.keepFiles > 1 {
            for i in stride(from: options.keepFiles - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(base).\(i)") {
                try? fm.moveItem(atPath: "\(base).\(i)", toPath: "\(base).\(i + 1)")
            }
        }
        try? fm.moveItem(atPath: base, toPath: "\(base).1")
    }

    /// Closes the files (on shutdown, after the last append returned).
    public func close() {
        for file in files.values { _ = fsync(file.fd); Glibc.close(file.fd) }
        files = [:]
    }
}

/// A failed system call on a file, with the path and the system's reason.
public struct POSIXFileError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32
    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}
