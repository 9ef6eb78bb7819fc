import Foundation
import Logging
import PomonaAdminAPI
import Synchronization

/// The last error-level log lines, for `pomona debug`. Filled by ``RecentErrorLogHandler`` when the
/// server's logger includes it (`MultiplexLogHandler([stream, RecentErrorLogHandler(label:)])`);
/// the admin API reads it through ``AdminAPI/recentErrors``.
public final class RecentErrorLog: Sendable {
    public typealias Entry = RecentLogLine

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
