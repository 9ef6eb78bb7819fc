import Foundation
import Synchronization

/// Live-query campaigns in flight: who they target, who answered, and who is listening.
///
/// Concurrency contract: safe from any thread. One small lock guards only the id → campaign map;
/// each campaign has its own lock, so results for different campaigns never contend (200 campaigns
/// at once cost check-ins nothing: the per-host work is a dictionary entry in ``HostRegistry``).
/// Events are handed to subscribers' `AsyncStream`s inside the campaign's lock, which keeps them in
/// order (every result before `done`); nothing is encoded under a lock.
public final class LiveQueryHub: Sendable {
    /// One listener of a campaign.
    struct Subscriber {
        let continuation: AsyncStream<LiveQueryEvent>.Continuation
        /// `false` for listeners that only wait for the end (the campaign's supervisor).
        let wantsResults: Bool
    }

    /// One running campaign.
    final class Campaign: Sendable {
        struct State {
            var responded = Set<Int64>()
            var totals: LiveQueryTotals
            var buffered: [LiveQueryHostResult] = []
            var subscribers: [Int: Subscriber] = [:]
            var nextSubscriber = 0
            var ended: (LiveQueryTotals, LiveQueryEndReason)?
        }

        let id: Int64
        let name: String
        let sql: String
        let targets: Set<Int64>
        let online: Set<Int64>
        let deadline: Date
        let maxBuffered: Int
        /// Whose cap it counts against (nil: started without a reservation, counted nowhere).
        let owner: LiveQueryOwner?
        let state: Mutex<State>

        init(id: Int64, sql: String, targets: Set<Int64>, online: Set<Int64>, deadline: Date, maxBuffered: Int, owner: LiveQueryOwner?) {
            self.id = id
            self.name = LiveQueryName.name(campaignID: id)
            self.sql = sql
            self.targets = targets
            self.online = online
            self.deadline = deadline
            self.maxBuffered = maxBuffered
            self.owner = owner
            self.state = Mutex(State(totals: LiveQueryTotals(targeted: targets.count, online: online.count)))
        }
    }

    /// A campaign's progress as the API reports it.
    public struct Snapshot: Sendable, Equatable {
        public var id: Int64
        public var sql: String
        public var totals: LiveQueryTotals
        public var deadline: Date
        public var targets: Set<Int64>
        public var pendingHostIDs: Set<Int64>
    }

    private let campaigns = Mutex<[Int64: Campaign]>([:])
    /// Open campaigns per user, and reservations for ones being created (see ``reserve(for:)``).
    private let admission = Mutex(LiveQueryAdmission())
    private let settingsBox: Mutex<LiveQuerySettings>
    private let hook = Mutex<(@Sendable (LiveQueryHostResult, String) -> Void)?>(nil)

    public init(settings: LiveQuerySettings = LiveQuerySettings()) {
        settingsBox = Mutex(settings)
    }

    public var settings: LiveQuerySettings {
        get { settingsBox.withLock { $0 } }
        set { settingsBox.withLock { $0 = newValue } }
    }

    /// PIPELINE HOOK: called with every live-query result and the campaign's SQL, after it was
    /// stored. The server wires this to the pipeline to send results as sourcetype `osquery:live`
    /// when that is enabled; it must not block (hand the result off and return).
    public func setResultHook(_ body: (@Sendable (LiveQueryHostResult, _ sql: String) -> Void)?) {
        hook.withLock { $0 = body }
    }

    public var activeCount: Int { campaigns.withLock { $0.count } }

    /// A place under the caps, held from before a campaign is recorded until it ends: the check
    /// and the count are one step, so concurrent requests cannot all pass a check of the same count.
    /// Give it to ``start(id:sql:targets:online:deadline:registry:reservation:)``, or to
    /// ``release(_:)`` if the campaign is not started after all.
    public struct Reservation: Sendable {
        public let owner: LiveQueryOwner
    }

    /// Reserves a place for a campaign of `owner` under the caps of ``settings``.
    public func reserve(for owner: LiveQueryOwner) throws(LiveQueryAdmission.Refusal) -> Reservation {
        let limits = settings.admissionLimits
        try admission.withLock { (state: inout LiveQueryAdmission) throws(LiveQueryAdmission.Refusal) in
            try state.admit(owner, limits: limits)
        }
        return Reservation(owner: owner)
    }

    /// Gives back a reservation whose campaign was not started.
    public func release(_ reservation: Reservation) {
        admission.withLock { $0.release(reservation.owner) }
    }

    /// Open campaigns (and reservations) of one user.
    public func openCount(userID: Int64) -> Int {
        admission.withLock { $0.openByUser[userID, default: 0] }
    }

    /// Starts a campaign and queues its query for every target's next `distributed/read`.
    /// With a reservation, the campaign counts against its owner's caps until it ends.
    ///
    /// - Returns: `false` when the campaign id is already running (the reservation is released).
    @discardableResult
    public func start(
        id: Int64, sql: String, targets: Set<Int64>, online: Set<Int64>, deadline: Date, registry: HostRegistry,
        reservation: Reservation? = nil
    ) -> Bool {
        let campaign = Campaign(
            id: id, sql: sql, targets: targets, online: online.intersection(targets), deadline: deadline, maxBuffered: settings.maxBufferedResults,
            owner: reservation?.owner)
        let inserted = campaigns.withLock { map -> Bool in
            if map[id] != nil { return false }
            map[id] = campaign
            return true
        }
        if inserted {
            registry.enqueue(name: campaign.name, sql: sql, hostIDs: targets)
        } else if let reservation {
            release(reservation)
        }
        return inserted
    }

    /// Forgets an ended campaign and frees its place under the caps.
    private func remove(_ id: Int64) -> Campaign? {
        guard let campaign = campaigns.withLock({ $0.removeValue(forKey: id) }) else { return nil }
        if let owner = campaign.owner { admission.withLock { $0.release(owner) } }
        return campaign
    }

    /// Takes one host's answer. Ignored (returns `false`) for a campaign that is not running, a host
    /// it does not target, or a host that already answered (osquery resends a write it did not see
    /// acknowledged). Ends the campaign when this was the last target.
    @discardableResult
    public func deliver(_ result: LiveQueryHostResult) -> Bool {
        guard let campaign = campaigns.withLock({ $0[result.campaignID] }) else { return false }
        guard campaign.targets.contains(result.hostID) else { return false }
        var closing: [AsyncStream<LiveQueryEvent>.Continuation] = []
        let finished: Bool? = campaign.state.withLock { s in
            guard s.ended == nil, !s.responded.contains(result.hostID) else { return nil }
            s.responded.insert(result.hostID)
            s.totals.responded += 1
            if campaign.online.contains(result.hostID) { s.totals.respondedOnline += 1 }
            if result.error != nil { s.totals.failed += 1 }
            s.totals.rows += result.rowCount
            if s.buffered.count < campaign.maxBuffered { s.buffered.append(result) }
            let event = LiveQueryEvent.result(result, s.totals)
            for (key, subscriber) in s.subscribers where subscriber.wantsResults {
                // A listener that fell `subscriberBuffer` events behind is cut off rather than
                // buffered without bound; its stream ends without `done` (see ``subscribe``).
                switch subscriber.continuation.yield(event) {
                case .dropped:
                    s.subscribers.removeValue(forKey: key)
                    closing.append(subscriber.continuation)
                case .terminated:
                    s.subscribers.removeValue(forKey: key)  // the listener went away (see `subscribe`)
                default:
                    break
                }
            }
            guard s.responded.count == campaign.targets.count else { return false }
            closing += Self.end(&s, reason: .allResponded)
            return true
        }
        // Finished outside the lock: finishing runs the stream's onTermination, which takes it.
        for continuation in closing { continuation.finish() }
        guard let finished else { return false }
        if finished { _ = remove(campaign.id) }
        if let hook = hook.withLock({ $0 }) { hook(result, campaign.sql) }
        return true
    }

    /// Ends a campaign early (its deadline passed, or a user stopped it): hosts that have not
    /// answered stop getting the query, subscribers get `done`.
    /// - Returns: the final totals, or `nil` when it was not running.
    @discardableResult
    public func finish(id: Int64, reason: LiveQueryEndReason, registry: HostRegistry) -> LiveQueryTotals? {
        guard let campaign = remove(id) else { return nil }
        var closing: [AsyncStream<LiveQueryEvent>.Continuation] = []
        let (totals, waiting): (LiveQueryTotals, Set<Int64>) = campaign.state.withLock { s in
            if s.ended == nil { closing = Self.end(&s, reason: reason) }
            return (s.totals, campaign.targets.subtracting(s.responded))
        }
        for continuation in closing { continuation.finish() }
        registry.cancelQuery(name: campaign.name, hostIDs: waiting)
        return totals
    }

    /// Marks the campaign ended and sends `done` (in order, under the lock); returns the streams
    /// for the caller to finish once the lock is released.
    private static func end(_ s: inout Campaign.State, reason: LiveQueryEndReason) -> [AsyncStream<LiveQueryEvent>.Continuation] {
        s.ended = (s.totals, reason)
        let subscribers = s.subscribers.values.map(\.continuation)
        // Room for `done` is always kept (the buffer is one larger than the results it may hold).
        for continuation in subscribers { continuation.yield(.done(s.totals, reason)) }
        s.subscribers = [:]
        s.buffered = []
        return subscribers
    }

    /// Events of a running campaign: the results so far, then each new one, then `done`.
    ///
    /// - Parameters:
    ///   - results: `false` to get only `done` (and keep-alives).
    ///   - keepAlive: when given, a `.keepAlive` event whenever this much time passed, so a
    ///     streaming response can send something through proxies while no host answers.
    /// - Returns: `nil` when the campaign is not running (finished ones are in the database).
    ///   A listener that does not keep up, falling more than ``subscriberBuffer`` results behind
    ///   (beyond the replayed ones), is cut off: its stream ends without `done`.
    public func subscribe(id: Int64, results: Bool = true, keepAlive: Duration? = nil) -> AsyncStream<LiveQueryEvent>? {
        guard let campaign = campaigns.withLock({ $0[id] }) else { return nil }
        let capacity = results ? campaign.maxBuffered + Self.subscriberBuffer + 1 : 2
        let (stream, continuation) = AsyncStream.makeStream(of: LiveQueryEvent.self, bufferingPolicy: .bufferingOldest(capacity))
        let registered: Int? = campaign.state.withLock { s in
            if let (totals, reason) = s.ended {
                continuation.yield(.done(totals, reason))
                continuation.finish()
                return nil
            }
            if results {
                var running = LiveQueryTotals(targeted: s.totals.targeted, online: s.totals.online)
                for result in s.buffered {
                    running.responded += 1
                    if campaign.online.contains(result.hostID) { running.respondedOnline += 1 }
                    if result.error != nil { running.failed += 1 }
                    running.rows += result.rowCount
                    continuation.yield(.result(result, running))
                }
            }
            let key = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[key] = Subscriber(continuation: continuation, wantsResults: results)
            return key
        }
        guard registered != nil else { return stream }
        let ticker = keepAlive.map { interval in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if case .terminated = continuation.yield(.keepAlive) { return }
                }
            }
        }
        // Takes no lock: it runs while the listener's task is being cancelled, holding that task's
        // status lock, and `deliver` yields to the listener (which needs that lock) while holding
        // the campaign's: locking here could deadlock. The next yield that finds the stream
        // terminated removes the subscriber; ending the campaign drops them all.
        continuation.onTermination = { _ in ticker?.cancel() }
        return stream
    }

    /// Results a listener may fall behind by before it is cut off (on top of the replayed ones).
    public static let subscriberBuffer = 4_096

    /// Progress of a running campaign, or `nil`.
    public func snapshot(id: Int64) -> Snapshot? {
        guard let campaign = campaigns.withLock({ $0[id] }) else { return nil }
        return campaign.state.withLock { s in
            Snapshot(
                id: id, sql: campaign.sql, totals: s.totals, deadline: campaign.deadline, targets: campaign.targets,
                pendingHostIDs: campaign.targets.subtracting(s.responded))
        }
    }

    /// Ids of the running campaigns.
    public var runningIDs: [Int64] { campaigns.withLock { Array($0.keys) } }
}
