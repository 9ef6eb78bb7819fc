import Foundation
import Synchronization

/// The SHA-256 digest of a node key. Pomona never keeps node keys themselves: the database and the
/// registry hold digests, so a leaked database file cannot be used to impersonate agents, and a
/// lookup by digest does not leak key prefixes through timing.
public struct NodeKeyDigest: Hashable, Sendable {
    public let bytes: [UInt8]
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }
    public init?(hex: String) {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let hi = iterator.next(), let lo = iterator.next() {
            guard let h = JSONScanner.hexValue(hi), let l = JSONScanner.hexValue(lo) else { return nil }
            out.append(UInt8(h << 4 | l))
        }
        self.init(bytes: out)
    }
    public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// What the check-in path needs to know about one host, kept in memory.
public struct HostCheckInState: Sendable, Equatable {
    public let id: Int64
    public var platform: OsqueryPlatform?
    public var hostnameKnown: Bool
    public var createdAt: Date
    public var seenAt: Date?
    /// When vitals were last ingested (`.distantPast` for a new host: refresh at once).
    public var detailUpdatedAt: Date
    /// When detail queries were last handed out, so a slow host is not sent them on every poll.
    public var detailRequestedAt: Date?
    public var refetchRequested: Bool
    public var distributedInterval: Int?
    public var configTLSRefresh: Int?
    /// When the host last answered label queries (`.distantPast`: never, so they are due).
    public var labelsUpdatedAt: Date = .distantPast
    /// When label queries were last handed out, so they are not resent on every poll.
    public var labelsRequestedAt: Date?
    /// When the host last answered policy queries.
    public var policiesUpdatedAt: Date = .distantPast
    public var policiesRequestedAt: Date?

    public init(
        id: Int64, platform: OsqueryPlatform?, hostnameKnown: Bool, createdAt: Date, seenAt: Date?,
        detailUpdatedAt: Date, refetchRequested: Bool, distributedInterval: Int? = nil, configTLSRefresh: Int? = nil
    ) {
        self.id = id
        self.platform = platform
        self.hostnameKnown = hostnameKnown
        self.createdAt = createdAt
        self.seenAt = seenAt
        self.detailUpdatedAt = detailUpdatedAt
        self.refetchRequested = refetchRequested
        self.distributedInterval = distributedInterval
        self.configTLSRefresh = configTLSRefresh
    }
}

/// Node key → host, and the per-host work waiting for the next `distributed/read`.
///
/// Concurrency contract: every method is safe from any thread; state lives behind one `Mutex` and
/// each call holds it for a few dictionary operations only (no IO, no allocation-heavy work), so the
/// check-in path never waits on SQLite. The registry is rebuilt from the database at start; seen
/// times are drained by the store writer, which persists them in batches.
public final class HostRegistry: Sendable {
    struct State {
        var hostIDByDigest: [NodeKeyDigest: Int64] = [:]
        var digestByHostID: [Int64: NodeKeyDigest] = [:]
        var hosts: [Int64: HostCheckInState] = [:]
        var seenSinceFlush: [Int64: Date] = [:]
        /// name → sql, per host: live queries and other one-shot work.
        var pendingQueries: [Int64: [String: String]] = [:]
        /// Dynamic-label and policy queries, compiled per platform (replaced when they change).
        var evaluations = HostEvaluationQueries.empty
        /// Bumped when hosts come or go or their check-in intervals change: a status snapshot of
        /// an older generation is not served. (Seen times do not bump it: every check-in would.)
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    /// What admin status queries are answered from (see ``StatusSnapshot``). Its own lock: a
    /// rebuild waits here, never in the lock check-ins take.
    private let statusSnapshot = Mutex<StatusSnapshot?>(nil)
    /// How old (by the callers' clock) a snapshot may be and still be served.
    public let statusSnapshotMaxAge: TimeInterval
    public let planner: DistributedReadPlanner
    /// Live-query campaigns in flight (their per-host work sits in the pending queries here).
    public let liveQueries: LiveQueryHub

    public init(
        planner: DistributedReadPlanner = DistributedReadPlanner(), liveQueries: LiveQueryHub = LiveQueryHub(),
        statusSnapshotMaxAge: TimeInterval = 1
    ) {
        self.planner = planner
        self.liveQueries = liveQueries
        self.statusSnapshotMaxAge = statusSnapshotMaxAge
    }

    /// Replaces the label and policy queries hosts are asked to run (after any change to them).
    public func setEvaluationQueries(_ queries: HostEvaluationQueries) {
        state.withLock { $0.evaluations = queries }
    }

    public var evaluationQueries: HostEvaluationQueries { state.withLock { $0.evaluations } }

    /// Restores when hosts last answered label and policy queries (at start, from the database).
    public func restoreEvaluationTimes(_ times: [Int64: (labels: Date?, policies: Date?)]) {
        state.withLock { s in
            for (id, t) in times {
                if let l = t.labels { s.hosts[id]?.labelsUpdatedAt = l }
                if let p = t.policies { s.hosts[id]?.policiesUpdatedAt = p }
            }
        }
    }

    /// Records that a host answered its label queries (any of them: like Fleet, one answer counts).
    public func labelsEvaluated(hostID: Int64, at now: Date) {
        state.withLock { s in
            s.hosts[hostID]?.labelsUpdatedAt = now
            s.hosts[hostID]?.labelsRequestedAt = nil
        }
    }

    /// Records that a host answered its policy queries.
    public func policiesEvaluated(hostID: Int64, at now: Date) {
        state.withLock { s in
            s.hosts[hostID]?.policiesUpdatedAt = now
            s.hosts[hostID]?.policiesRequestedAt = nil
        }
    }

    /// Asks for the label and policy queries on the host's next read (Fleet's refetch does too).
    public func requestEvaluations(hostID: Int64) {
        state.withLock { s in
            s.hosts[hostID]?.labelsUpdatedAt = .distantPast
            s.hosts[hostID]?.labelsRequestedAt = nil
            s.hosts[hostID]?.policiesUpdatedAt = .distantPast
            s.hosts[hostID]?.policiesRequestedAt = nil
        }
    }

    /// Adds or replaces a host under a new node-key digest (enrollment), dropping its old key.
    public func register(_ host: HostCheckInState, digest: NodeKeyDigest) {
        state.withLock { s in
            if let old = s.digestByHostID[host.id] { s.hostIDByDigest[old] = nil }
            s.hostIDByDigest[digest] = host.id
            s.digestByHostID[host.id] = digest
            s.hosts[host.id] = host
            s.generation &+= 1
        }
    }

    /// Forgets a host (deleted by an admin): its key answers `node_invalid` from now on.
    public func remove(hostID: Int64) {
        state.withLock { s in
            if let digest = s.digestByHostID.removeValue(forKey: hostID) { s.hostIDByDigest[digest] = nil }
            s.hosts[hostID] = nil
            s.pendingQueries[hostID] = nil
            s.seenSinceFlush[hostID] = nil
            s.generation &+= 1
        }
    }

    public var count: Int { state.withLock { $0.hosts.count } }

    /// Authenticates a node key and records the host as seen now.
    /// - Returns: the host id, or `nil` for a key Pomona does not know (answer `node_invalid`).
    public func authenticate(_ digest: NodeKeyDigest, now: Date) -> Int64? {
        state.withLock { s in
            guard let id = s.hostIDByDigest[digest] else { return nil }
            s.hosts[id]?.seenAt = now
            s.seenSinceFlush[id] = now
            return id
        }
    }

    public func host(id: Int64) -> HostCheckInState? { state.withLock { $0.hosts[id] } }

    /// Whether a node key is an enrolled host's, without recording it as seen (a check made
    /// before the request is read, e.g. to exempt its body from the unauthenticated budget).
    public func isEnrolled(_ digest: NodeKeyDigest) -> Bool { state.withLock { $0.hostIDByDigest[digest] != nil } }

    /// Authenticates and decides what the host should run now (the whole `distributed/read`).
    public func checkIn(_ digest: NodeKeyDigest, now: Date) -> (hostID: Int64, plan: DistributedReadPlan)? {
        state.withLock { s in
            guard let id = s.hostIDByDigest[digest], var host = s.hosts[id] else { return nil }
            host.seenAt = now
            s.seenSinceFlush[id] = now
            let plan = planner.plan(host: host, pending: s.pendingQueries[id] ?? [:], evaluations: s.evaluations, now: now)
            if plan.includesDetailQueries {
                host.detailRequestedAt = now
            }
            if plan.includesLabelQueries { host.labelsRequestedAt = now }
            if plan.includesPolicyQueries { host.policiesRequestedAt = now }
            s.hosts[id] = host
            return (id, plan)
        }
    }

    /// Queues a one-shot query for hosts; it is handed out on their next read until answered.
    public func enqueue(name: String, sql: String, hostIDs: some Sequence<Int64>) {
        state.withLock { s in
            for id in hostIDs where s.hosts[id] != nil { s.pendingQueries[id, default: [:]][name] = sql }
        }
    }

    /// The one-shot queries queued for a host and not yet answered: name → SQL.
    public func pendingQueries(hostID: Int64) -> [String: String] {
        state.withLock { $0.pendingQueries[hostID] ?? [:] }
    }

    /// Removes a one-shot query from many hosts (its campaign ended).
    public func cancelQuery(name: String, hostIDs: some Sequence<Int64>) {
        state.withLock { s in
            for id in hostIDs {
                s.pendingQueries[id]?[name] = nil
                if s.pendingQueries[id]?.isEmpty == true { s.pendingQueries[id] = nil }
            }
        }
    }

    /// The hosts among `ids` that are online now, by Fleet's status rule.
    public func onlineHosts(among ids: some Sequence<Int64>, now: Date) -> Set<Int64> {
        state.withLock { s in
            var online = Set<Int64>()
            for id in ids {
                guard let host = s.hosts[id] else { continue }
                let status = HostStatus.of(
                    seenAt: host.seenAt, createdAt: host.createdAt, distributedInterval: host.distributedInterval,
                    configTLSRefresh: host.configTLSRefresh, now: now)
                if status == .online { online.insert(id) }
            }
            return online
        }
    }

    /// Every registered host id (the "all hosts" live-query target).
    public var allHostIDs: [Int64] { state.withLock { Array($0.hosts.keys) } }

    /// Removes a one-shot query from a host (answered, or its campaign ended).
    public func completeQuery(name: String, hostID: Int64) {
        state.withLock { s in
            s.pendingQueries[hostID]?[name] = nil
            if s.pendingQueries[hostID]?.isEmpty == true { s.pendingQueries[hostID] = nil }
        }
    }

    /// Records that vitals were ingested, and what they say about platform and intervals.
    public func detailsIngested(hostID: Int64, vitals: HostVitals, at now: Date) {
        state.withLock { s in
            guard var host = s.hosts[hostID] else { return }
            host.detailUpdatedAt = now
            host.detailRequestedAt = nil
            host.refetchRequested = false
            if let family = vitals.platformFamily { host.platform = family }
            if vitals.hostname != nil { host.hostnameKnown = true }
            if let i = vitals.distributedInterval { host.distributedInterval = i }
            if let r = vitals.configTLSRefresh { host.configTLSRefresh = r }
            if host.distributedInterval != s.hosts[hostID]?.distributedInterval || host.configTLSRefresh != s.hosts[hostID]?.configTLSRefresh {
                s.generation &+= 1
            }
            s.hosts[hostID] = host
        }
    }

    /// Asks for every detail query on the host's next read (Fleet's "refetch").
    public func requestRefetch(hostID: Int64) {
        state.withLock { s in
            s.hosts[hostID]?.refetchRequested = true
            s.hosts[hostID]?.detailRequestedAt = nil
        }
    }

    /// Takes the seen times recorded since the last call (the writer persists them in one batch).
    public func drainSeen() -> [Int64: Date] {
        state.withLock { s in
            let seen = s.seenSinceFlush
            s.seenSinceFlush = [:]
            return seen
        }
    }

    /// Puts seen times back after a failed flush so they are not lost.
    public func restoreSeen(_ seen: [Int64: Date]) {
        state.withLock { s in
            for (id, date) in seen where s.hosts[id] != nil {
                if let newer = s.seenSinceFlush[id], newer > date { continue }
                s.seenSinceFlush[id] = date
            }
        }
    }

    // MARK: - Status for the admin API, from a snapshot

    /// Host ids split by whether their status is `wanted` (the host list's status filter). Hosts
    /// the registry does not know are in neither list. Served from a ``StatusSnapshot``: a
    /// `GET /hosts?status=` at 50,000 hosts must not hold the lock check-ins take while it walks
    /// every host.
    public func partitionByStatus(_ wanted: HostStatus, now: Date) -> (matching: [Int64], others: [Int64]) {
        snapshot(now: now).partition(wanted, now: now)
    }

    /// Status counts of the given hosts (from a ``StatusSnapshot``).
    public func statusCounts(ids: [Int64], now: Date) -> [HostStatus: Int] {
        snapshot(now: now).counts(ids: ids, now: now)
    }

    /// Status counts of every host (for `/healthz`, metrics and the host summary; from a ``StatusSnapshot``).
    public func statusCounts(now: Date) -> [HostStatus: Int] {
        snapshot(now: now).counts(now: now)
    }

    /// The current snapshot, rebuilt when hosts came or went or it is older than
    /// ``statusSnapshotMaxAge``. Concurrent callers that find it stale wait for one rebuild, in
    /// the snapshot's lock; the check-in lock is held only to copy the few fields status needs.
    func snapshot(now: Date) -> StatusSnapshot {
        statusSnapshot.withLock { cached in
            let generation = state.withLock { $0.generation }
            if let cached, cached.generation == generation, cached.takenAt <= now,
                now.timeIntervalSince(cached.takenAt) < statusSnapshotMaxAge
            {
                return cached
            }
            let fresh = state.withLock { s in StatusSnapshot(hosts: s.hosts, generation: s.generation, takenAt: now) }
            cached = fresh
            return fresh
        }
    }
}

/// What hosts' statuses are computed from, copied out of the registry at one moment: seen times
/// at most ``HostRegistry/statusSnapshotMaxAge`` old, which a status measured in tens of seconds
/// (online) to days (missing) does not notice. Statuses themselves are computed for the caller's
/// `now`, outside any lock.
struct StatusSnapshot: Sendable {
    struct Inputs: Sendable {
        var id: Int64
        var seenAt: Date?
        var createdAt: Date
        var distributedInterval: Int?
        var configTLSRefresh: Int?

        func status(now: Date) -> HostStatus {
            HostStatus.of(
                seenAt: seenAt, createdAt: createdAt, distributedInterval: distributedInterval, configTLSRefresh: configTLSRefresh, now: now)
        }
    }

    let hosts: [Inputs]
    let generation: UInt64
    let takenAt: Date

    /// Copies the fields (called under the registry's lock: one pass, no hashing).
    init(hosts: [Int64: HostCheckInState], generation: UInt64, takenAt: Date) {
        var inputs: [Inputs] = []
        inputs.reserveCapacity(hosts.count)
        for host in hosts.values {
            inputs.append(
                Inputs(
                    id: host.id, seenAt: host.seenAt, createdAt: host.createdAt, distributedInterval: host.distributedInterval,
                    configTLSRefresh: host.configTLSRefresh))
        }
        self.hosts = inputs
        self.generation = generation
        self.takenAt = takenAt
    }

    func partition(_ wanted: HostStatus, now: Date) -> (matching: [Int64], others: [Int64]) {
        var matching: [Int64] = []
        var others: [Int64] = []
        for host in hosts {
            if host.status(now: now) == wanted { matching.append(host.id) } else { others.append(host.id) }
        }
        return (matching, others)
    }

    func counts(now: Date) -> [HostStatus: Int] {
        var counts: [HostStatus: Int] = [:]
        for host in hosts { counts[host.status(now: now), default: 0] += 1 }
        return counts
    }

    func counts(ids: [Int64], now: Date) -> [HostStatus: Int] {
        let wanted = Set(ids)
        var counts: [HostStatus: Int] = [:]
        for host in hosts where wanted.contains(host.id) { counts[host.status(now: now), default: 0] += 1 }
        return counts
    }
}
