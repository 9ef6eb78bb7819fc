import Foundation
import Hummingbird
import Logging
import PomonaCore
import PomonaStore
import Synchronization

/// `GET /api/v1/pomona/debug` (admin): what `pomona debug` shows about the running server.
///
/// `{"version", "uptime_seconds", "process": {"pid", "resident_bytes"}, "database": {"path", "size_bytes",
/// "health", "integrity_check"?}, "writer": {"queue_depth", "transactions", "writes"},
/// "hosts": {"total", "online", …}, "recent_errors": [{"time", "level", "label", "message"}]}`.
/// `?check=integrity` adds SQLite's `integrity_check` (reads the whole file: slow on a big database,
/// so only on request).
extension AdminAPI {

    func registerDebug(on router: Router<AdminRequestContext>) {
        let startedAt = AdminDebugClock.started
        router.get("/api/v1/pomona/debug") { request, context in
            _ = try context.requireRole(.admin)
            let store = self.store
            let deep = queryParameter(request, "check") == "integrity"
            let database: JSONValue = try await offload {
                var members: [(String, JSONValue)] = [("path", .string(store.path)), ("size_bytes", .int(store.fileSize()))]
                do {
                    _ = try store.hostCount()
                    members.append(("health", .string("ok")))
                } catch {
                    members.append(("health", .string("error: \(error)")))
                }
                if deep {
                    members.append(("integrity_check", .string((try? store.integrityCheck()) ?? "failed to run")))
                }
                return .object(members)
            }
            let writer: JSONValue = .object([
                ("queue_depth", .int(await self.writer.queueDepth)),
                ("transactions", .int(await self.writer.transactions)),
                ("writes", .int(await self.writer.writes)),
            ])
            var hosts: [(String, JSONValue)] = [("total", .int(self.registry.count))]
            let counts = self.registry.statusCounts(now: Date())
            for status in HostStatus.allCases { hosts.append((status.rawValue, .int(counts[status] ?? 0))) }
            return jsonResponse(
                .object([
                    ("version", .string(self.settings.version)),
                    ("uptime_seconds", .int(Int(Date().timeIntervalSince(startedAt)))),
                    ("process", .object([("pid", .int(ProcessInfo.processInfo.processIdentifier)), ("resident_bytes", .int(AdminDebugClock.residentBytes()))])),
                    ("database", database),
                    ("writer", writer),
                    ("hosts", .object(hosts)),
                    ("recent_errors", .array(RecentErrorLog.shared.entries.map(\.json))),
                ]))
        }
    }
}

/// When the admin API came up (the first use of this type, at route registration).
enum AdminDebugClock {
    static let started = Date()

    /// Resident set size from `/proc/self/statm` (Linux); 0 elsewhere.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// The last error-level log lines, for `pomona debug`. Filled by ``RecentErrorLogHandler`` when the
/// server's logger includes it (`MultiplexLogHandler([stream, RecentErrorLogHandler(label:)])`).
public final class RecentErrorLog: Sendable {
    public struct Entry: Sendable {
        public var time: Date
        public var level: Logger.Level
        public var label: String
        public var message: String

        var json: JSONValue {
            .object([("time", .date(time)), ("level", .string(level.rawValue)), ("label", .string(label)), ("message", .string(message))])
        }
    }

    public static let shared = RecentErrorLog(capacity: 50)

    private let capacity: Int
    private let buffer = Mutex<[Entry]>([])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public func record(_ entry: Entry) {
        buffer.withLock { entries in
            entries.append(entry)
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }

    /// Oldest first.
    public var entries: [Entry] { buffer.withLock { $0 } }
}

/// A log handler that keeps `error` and `critical` lines in ``RecentErrorLog/shared``.
public struct RecentErrorLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .error
    let label: String
    let log: RecentErrorLog

    public init(label: String, log: RecentErrorLog = .shared) {
        self.label = label
        self.log = log
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        guard event.level >= .error else { return }
        var text = "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if !merged.isEmpty { text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        log.record(.init(time: Date(), level: event.level, label: label, message: text))
    }
}
