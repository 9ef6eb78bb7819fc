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
            var members: [(String, JSONValue)] = [("path", .string(store.location)), ("size_bytes", .int(store.fileSize()))]
            do {
                _ = try await store.hostCount()
                members.append(("health", .string("ok")))
            } catch {
                members.append(("health", .string("error: \(error)")))
            }
            if deep {
                members.append(("integrity_check", .string((try? await store.integrityCheck()) ?? "failed to run")))
            }
            let database: JSONValue = .object(members)
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
                    ("recent_errors", .array(self.recentErrors().map(\.json))),
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

/// An error-level log line as `pomona debug` shows it. The server's log handler collects them
/// (``AdminAPI/recentErrors``), so this module needs no logging backend of its own.
public struct RecentLogLine: Sendable {
    public var time: Date
    public var level: Logger.Level
    public var label: String
    public var message: String

    public init(time: Date, level: Logger.Level, label: String, message: String) {
        self.time = time
        self.level = level
        self.label = label
        self.message = message
    }

    var json: JSONValue {
        .object([("time", .date(time)), ("level", .string(level.rawValue)), ("label", .string(label)), ("message", .string(message))])
    }
}
