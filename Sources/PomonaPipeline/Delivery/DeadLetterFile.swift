#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import PomonaCore
import Synchronization

/// `<data dir>/deadletter/<output>.ndjson`: events an output's receiver refused for good, one
/// JSON line each: `{"time": "...", "output": "...", "reason": "...", "id": "...", "sourcetype": "...", "event": {...}}`.
/// The event is the exact body that was sent, so it can be fixed and replayed.
///
/// Written (and synced, unless the spool's fsync policy is `never`) before the checkpoint moves
/// past the events, so a dead-lettered event is never lost. Bounded: past `maxBytes` the file is
/// renamed to `.1` (replacing the previous `.1`) and a new one started.
public final class DeadLetterFile: Sendable {
    public let path: String
    let maxBytes: Int64
    let sync: Bool
    let state: Mutex<Int64>  // current size; the mutex also serialises writers

    public init(directory: URL, output: String, maxBytes: Int64 = 1 << 30, sync: Bool = true) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let safe = String(output.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) ? Character($0) : "_" })
        path = directory.appendingPathComponent(safe + ".ndjson").path
        self.maxBytes = maxBytes
        self.sync = sync
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        state = Mutex(size)
    }

    public struct Entry: Sendable {
        public var event: PipelineEvent
        public var reason: String
        public init(event: PipelineEvent, reason: String) {
            self.event = event
            self.reason = reason
        }
    }

    public func write(_ entries: [Entry], output: String, now: Date = Date()) throws {
        if entries.isEmpty { return }
        var out: [UInt8] = []
        let time = ISO8601DateFormatter().string(from: now)
        for entry in entries {
            out.append(contentsOf: Array(#"{"time":"#.utf8))
            JSONValue.encodeString(time, into: &out)
            out.append(contentsOf: Array(#","output":"#.utf8))
            JSONValue.encodeString(output, into: &out)
            out.append(contentsOf: Array(#","reason":"#.utf8))
            JSONValue.encodeString(entry.reason, into: &out)
            out.append(contentsOf: Array(#","id":"#.utf8))
            JSONValue.encodeString(entry.event.id, into: &out)
            out.append(contentsOf: Array(#","sourcetype":"#.utf8))
            JSONValue.encodeString(entry.event.sourcetype, into: &out)
            out.append(contentsOf: Array(#","event":"#.utf8))
            let body = entry.event.body.readableBytesView
            // The body is one JSON object; raw newlines can only be insignificant whitespace.
            out.append(contentsOf: body.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 })
            out.append(contentsOf: Array("}\n".utf8))
        }
        try state.withLock { (size: inout Int64) throws in
            if size > 0, size + Int64(out.count) > maxBytes {
                _ = rename(path, path + ".1")
                size = 0
            }
            let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o640)
            defer { close(fd) }
            do {
                try out.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in try FileIO.writeAll(fd, raw, path: path) }
                if sync { try FileIO.fdatasync(fd, path: path) }
            } catch {
                _ = ftruncate(fd, off_t(size))
                throw error
            }
            size += Int64(out.count)
        }
    }
}
