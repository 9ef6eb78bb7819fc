import Foundation

/// Online/offline/missing/new, by Fleet's rules (fleet spec §2.2), so numbers match what Fleet users know.
///
/// ```
/// online_interval = min(distributed_interval, config_tls_refresh) + 60 s
/// online   : seen + online_interval >  now
/// offline  : otherwise
/// missing  : seen + 30 days <= now
/// new      : created within the last 24 h (an extra flag, not a status)
/// ```
/// `logger_tls_period` is ignored on purpose: agents with nothing to log do not post (kolide/fleet#1419).
public enum HostStatus: String, Sendable, Codable, CaseIterable {
    case online, offline, missing

    public static let onlineBuffer: TimeInterval = 60
    public static let missingAfter: TimeInterval = 30 * 86400
    public static let newFor: TimeInterval = 86400

    /// The status of a host last seen at `seenAt` (or created at `createdAt` when never seen).
    public static func of(
        seenAt: Date?, createdAt: Date, distributedInterval: Int?, configTLSRefresh: Int?, now: Date
    ) -> HostStatus {
        let seen = seenAt ?? createdAt
        if seen.addingTimeInterval(missingAfter) <= now { return .missing }
        return seen.addingTimeInterval(onlineInterval(distributedInterval: distributedInterval, configTLSRefresh: configTLSRefresh)) > now
            ? .online : .offline
    }

    /// Seconds a host may stay silent and still count as online.
    public static func onlineInterval(distributedInterval: Int?, configTLSRefresh: Int?) -> TimeInterval {
        let intervals = [distributedInterval, configTLSRefresh].compactMap { $0 }.filter { $0 > 0 }
        return TimeInterval(intervals.min() ?? 10) + onlineBuffer
    }

    public static func isNew(createdAt: Date, now: Date) -> Bool { createdAt.addingTimeInterval(newFor) > now }
}
