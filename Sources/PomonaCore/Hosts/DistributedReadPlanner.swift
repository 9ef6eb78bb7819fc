import Foundation

/// What one `distributed/read` hands a host.
public struct DistributedReadPlan: Sendable, Equatable {
    /// name → SQL, in the order they are written.
    public var queries: [(String, String)]
    /// Seconds of fast polling to ask for (`accelerate`), or `nil`.
    public var accelerate: Int?
    public var includesDetailQueries: Bool

    public static func == (lhs: DistributedReadPlan, rhs: DistributedReadPlan) -> Bool {
        lhs.queries.map(\.0) == rhs.queries.map(\.0) && lhs.queries.map(\.1) == rhs.queries.map(\.1)
            && lhs.accelerate == rhs.accelerate && lhs.includesDetailQueries == rhs.includesDetailQueries
    }

    public var isEmpty: Bool { queries.isEmpty && accelerate == nil }
}

/// Decides when a host's vitals are due, Fleet-style: once per interval plus a per-host jitter, at
/// once for new hosts and after a refetch request. Pure, so the rules are tested without a server.
public struct DistributedReadPlanner: Sendable {
    /// How often vitals are refreshed (Fleet's `detail_update_interval`, 1 h).
    public var detailInterval: TimeInterval
    /// Up to this fraction of the interval is added per host, so hosts do not refresh in lockstep.
    public var maxJitterFraction: Double
    /// A host that was handed detail queries but has not answered gets them again after this long.
    public var detailResendAfter: TimeInterval
    /// Seconds of accelerated check-ins for hosts whose platform or hostname is still unknown.
    public var newHostAccelerate: Int

    public init(detailInterval: TimeInterval = 3600, maxJitterFraction: Double = 0.1, detailResendAfter: TimeInterval = 300, newHostAccelerate: Int = 60) {
        self.detailInterval = detailInterval
        self.maxJitterFraction = maxJitterFraction
        self.detailResendAfter = detailResendAfter
        self.newHostAccelerate = newHostAccelerate
    }

    /// A stable per-host jitter in seconds (the same host always gets the same offset).
    public func jitter(hostID: Int64) -> TimeInterval {
        var x = UInt64(bitPattern: hostID) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        x = x &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 32
        return detailInterval * maxJitterFraction * Double(x % 10_000) / 10_000
    }

    public func detailsDue(_ host: HostCheckInState, now: Date) -> Bool {
        if let requested = host.detailRequestedAt, now.timeIntervalSince(requested) < detailResendAfter { return false }
        if host.refetchRequested { return true }
        return now.timeIntervalSince(host.detailUpdatedAt) >= detailInterval + jitter(hostID: host.id)
    }

    public func plan(host: HostCheckInState, pending: [String: String], now: Date) -> DistributedReadPlan {
        var queries: [(String, String)] = []
        let details = detailsDue(host, now: now)
        if details {
            for query in DetailQuery.queries(for: host.platform) {
                queries.append((query.distributedName, query.sql))
            }
        }
        for name in pending.keys.sorted() {
            queries.append((name, pending[name]!))
        }
        let accelerate = (host.platform == nil || !host.hostnameKnown) ? newHostAccelerate : nil
        return DistributedReadPlan(queries: queries, accelerate: accelerate, includesDetailQueries: details)
    }
}
