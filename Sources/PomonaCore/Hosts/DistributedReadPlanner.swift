import Foundation

/// What one `distributed/read` hands a host.
public struct DistributedReadPlan: Sendable, Equatable {
    /// name → SQL, in the order they are written.
    public var queries: [(String, String)]
    /// Seconds of fast polling to ask for (`accelerate`), or `nil`.
    public var accelerate: Int?
    public var includesDetailQueries: Bool
    public var includesLabelQueries: Bool = false
    public var includesPolicyQueries: Bool = false

    public static func == (lhs: DistributedReadPlan, rhs: DistributedReadPlan) -> Bool {
        lhs.queries.map(\.0) == rhs.queries.map(\.0) && lhs.queries.map(\.1) == rhs.queries.map(\.1)
            && lhs.accelerate == rhs.accelerate && lhs.includesDetailQueries == rhs.includesDetailQueries
            && lhs.includesLabelQueries == rhs.includesLabelQueries && lhs.includesPolicyQueries == rhs.includesPolicyQueries
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
    /// How often dynamic labels are re-evaluated per host (Fleet's `label_update_interval`, 1 h).
    public var labelInterval: TimeInterval
    /// How often policies are re-evaluated per host (Fleet's `policy_update_interval`, 1 h).
    public var policyInterval: TimeInterval

    public init(
        detailInterval: TimeInterval = 3600, maxJitterFraction: Double = 0.1, detailResendAfter: TimeInterval = 300, newHostAccelerate: Int = 60,
        labelInterval: TimeInterval = 3600, policyInterval: TimeInterval = 3600
    ) {
        self.detailInterval = detailInterval
        self.maxJitterFraction = maxJitterFraction
        self.detailResendAfter = detailResendAfter
        self.newHostAccelerate = newHostAccelerate
        self.labelInterval = labelInterval
        self.policyInterval = policyInterval
    }

    /// A stable per-host jitter in seconds (the same host always gets the same offset).
    public func jitter(hostID: Int64) -> TimeInterval { jitter(hostID: hostID, interval: detailInterval) }

    /// The same per-host jitter, scaled to another interval.
    public func jitter(hostID: Int64, interval: TimeInterval) -> TimeInterval {
        var x = UInt64(bitPattern: hostID) &* 0x9E37_79B9_7F4A_7C15
        x ^= x >> 29
        x = x &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 32
        return interval * maxJitterFraction * Double(x % 10_000) / 10_000
    }

    /// Whether a periodic evaluation (labels or policies) is due: never answered, older than the
    /// interval plus jitter, or older than the last change to the queries; not while a request
    /// handed out recently is still unanswered.
    func evaluationDue(updatedAt: Date, requestedAt: Date?, changedAt: Date, interval: TimeInterval, hostID: Int64, now: Date) -> Bool {
        if let requestedAt, now.timeIntervalSince(requestedAt) < detailResendAfter { return false }
        if updatedAt < changedAt { return true }
        return now.timeIntervalSince(updatedAt) >= interval + jitter(hostID: hostID, interval: interval)
    }

    public func detailsDue(_ host: HostCheckInState, now: Date) -> Bool {
        if let requested = host.detailRequestedAt, now.timeIntervalSince(requested) < detailResendAfter { return false }
        if host.refetchRequested { return true }
        return now.timeIntervalSince(host.detailUpdatedAt) >= detailInterval + jitter(hostID: host.id)
    }

    public func plan(host: HostCheckInState, pending: [String: String], now: Date) -> DistributedReadPlan {
        plan(host: host, pending: pending, evaluations: .empty, now: now)
    }

    /// The whole read for one host. The idle case (nothing due) allocates nothing but the plan.
    public func plan(host: HostCheckInState, pending: [String: String], evaluations: HostEvaluationQueries, now: Date) -> DistributedReadPlan {
        var queries: [(String, String)] = []
        let details = detailsDue(host, now: now)
        if details {
            for query in DetailQuery.queries(for: host.platform) {
                queries.append((query.distributedName, query.sql))
            }
        }
        var labels = false
        if evaluations.labelCount > 0,
            evaluationDue(
                updatedAt: host.labelsUpdatedAt, requestedAt: host.labelsRequestedAt, changedAt: evaluations.labelsChangedAt,
                interval: labelInterval, hostID: host.id, now: now)
        {
            let due = evaluations.labelQueries(for: host.platform)
            labels = !due.isEmpty
            queries.append(contentsOf: due)
        }
        var policies = false
        if evaluations.policyCount > 0,
            evaluationDue(
                updatedAt: host.policiesUpdatedAt, requestedAt: host.policiesRequestedAt, changedAt: evaluations.policiesChangedAt,
                interval: policyInterval, hostID: host.id, now: now)
        {
            let due = evaluations.policyQueries(for: host.platform)
            policies = !due.isEmpty
            queries.append(contentsOf: due)
        }
        for name in pending.keys.sorted() {
            queries.append((name, pending[name]!))
        }
        let accelerate = (host.platform == nil || !host.hostnameKnown) ? newHostAccelerate : nil
        return DistributedReadPlan(
            queries: queries, accelerate: accelerate, includesDetailQueries: details, includesLabelQueries: labels,
            includesPolicyQueries: policies)
    }
}
