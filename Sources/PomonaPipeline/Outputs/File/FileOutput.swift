#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOCore

/// Rotating local NDJSON files, one per sourcetype (path template): an archive, and the
/// replacement for the agent API's `osquery_result.log` / `osquery_status.log`.
///
/// A send appends each file's lines in one write and, with `fsync` on, `fdatasync`s before it
/// reports them delivered. A failed write (disk full) cuts the file back to where the send
/// started, so no half line is left, and classifies that file's events for retry. Rotation:
/// past `max_file_mb` the file becomes `.1`, older ones shift up, beyond `keep_files` they go.
public actor FileOutput: EventOutput {
    public nonisolated let name: String
    public nonisolated let batchLimits: OutputBatchLimits
    let configuration: FileOutputConfiguration
    let logger: Logger
    private var files: [String: OpenFile] = [:]
    private var pathBySourcetype: [String: String] = [:]

    struct OpenFile {
        var fd: Int32
        var size: Int64
    }

    init(_ configuration: FileOutputConfiguration, logger: Logger) {
        name = configuration.common.name
        batchLimits = configuration.common.batchLimits
        self.configuration = configuration
        self.logger = logger
    }

    /// The file events of `sourcetype` go to.
    public func path(for sourcetype: String) -> String {
        if let path = pathBySourcetype[sourcetype] { return path }
        let path = FilePathTemplate.resolve(configuration.path, sourcetype: sourcetype)
        pathBySourcetype[sourcetype] = path
        return path
    }

    public func send(_ events: [PipelineEvent]) async -> OutputSendResult {
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for (index, event) in events.enumerated() {
            let path = path(for: event.sourcetype)
            if groups[path] == nil { order.append(path) }
            groups[path, default: []].append(index)
        }
        var result = OutputSendResult()
        for path in order {
            let indices = groups[path]!
            var buffer = ByteBufferAllocator().buffer(capacity: indices.reduce(0) { $0 + events[$1].body.readableBytes + 1 })
            for index in indices { NDJSONLine.append(events[index].body, to: &buffer) }
            do {
                try append(buffer, to: path)
            } catch {
                logger.error("file output write failed", metadata: ["output": "\(name)", "path": "\(path)", "error": "\(error)"])
                result.retry.append(contentsOf: indices)
                if result.retryReason == nil { result.retryReason = "\(error)" }
            }
        }
        result.retry.sort()
        return result
    }

    private func append(_ buffer: ByteBuffer, to path: String) throws {
        var file = try open(path)
        let start = file.size
        do {
            try buffer.withUnsafeReadableBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(file.fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw FileOutputError(operation: "write", path: path, code: errno)
                    }
                    offset += n
                }
            }
            if configuration.fsync, fdatasync(file.fd) != 0 {
                throw FileOutputError(operation: "fdatasync", path: path, code: errno)
            }
        } catch {
            _ = ftruncate(file.fd, off_t(start))
            throw error
        }
        file.size += Int64(buffer.readableBytes)
        files[path] = file
        if file.size >= Int64(configuration.maxFileMB) << 20 { rotate(path) }
    }

    private func open(_ path: String) throws -> OpenFile {
        if let file = files[path] { return file }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        if fd < 0 { throw FileOutputError(operation: "open", path: path, code: errno) }
        var info = stat()
        fstat(fd, &info)
        let file = OpenFile(fd: fd, size: Int64(info.st_size))
        files[path] = file
        return file
    }

    private func rotate(_ path: String) {
        guard let file = files.removeValue(forKey: path) else { return }
        Glibc.close(file.fd)
        let fm = FileManager.default
        let keep = configuration.keepFiles
        if keep == 0 {
            try? fm.removeItem(atPath: path)
            return
        }
        try? fm.removeItem(atPath: "\(path).\(keep)")
        if keep > 1 {
            for i in stride(from: keep - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(path).\(i)") {
                try? fm.moveItem(atPath: "\(path).\(i)", toPath: "\(path).\(i + 1)")
            }
        }
        try? fm.moveItem(atPath: path, toPath: "\(path).1")
    }

    public func shutdown() async {
        for file in files.values {
            _ = fsync(file.fd)
            Glibc.close(file.fd)
        }
        files = [:]
    }
}

/// A failed system call on an output file, with the path and the system's reason.
public struct FileOutputError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32
    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}
