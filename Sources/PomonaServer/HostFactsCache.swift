import Foundation
import PomonaCore
import PomonaPipeline
import PomonaStore
import Synchronization

/// The enrich stage's view of the fleet: every host's facts in memory, looked up by id or by an
/// identifier a collector event carries. Lookups never touch the database (the delivery loop calls
/// them for every event): a periodic service refreshes the index from the store, and an
/// enrollment adds its host at once (``enrolled(hostID:record:)``), so a new host's first events
/// are enriched too. An id that is still unknown (enrolled by another process, say) is loaded
/// alone in the background and served from the next lookup on; ids found missing are remembered
/// until the next full refresh, so deleted hosts do not cost a read per event.
///
/// Identifiers resolve by the store's one rule (``HostIdentifierField/resolve(_:hosts:)``): the
/// unique fields (uuid, osquery host id, hardware serial) first, then the hostname; an identifier
/// several hosts share names none of them. Unlike the store, matching ignores case: collectors
/// spell a UUID as they like.
///
/// Most refreshes are incremental: only hosts enrolled or given new details since the previous
/// refresh (with an overlap, as a detail write stamped before a refresh may commit after it).
/// Every ``fullRefreshInterval`` everything is reloaded, which also drops deleted hosts and picks
/// up label membership changes. (A full reload decoded 50,000 hosts' vitals every 10 s: 8.6% of
/// the server's CPU in the 50,000-host capacity run.)
final class HostFactsCache: HostFactsProvider {
    struct Index: Sendable {
        var byID: [Int64: HostFacts] = [:]
        /// Lowercased identifier → the hosts that have it, per field.
        var byField: [HostIdentifierField: [String: Set<Int64>]] = [:]
        /// What each host is indexed under, to take it out when its facts change.
        var keys: [Int64: [(HostIdentifierField, String)]] = [:]
        var knownMissing: Set<Int64> = []

        mutating func add(_ r: HostFactsRecord) {
            remove(r.id)
            byID[r.id] = HostFacts(
                id: r.id, hostname: r.hostname, uuid: r.uuid, hardwareSerial: r.hardwareSerial, platform: r.platform,
                osVersion: r.osVersion, primaryIP: r.primaryIP, primaryMAC: r.primaryMAC, loggedInUser: r.loggedInUser,
                labels: r.labels)
            let fields: [(HostIdentifierField, String)] = [
                (.uuid, r.uuid), (.osqueryHostID, r.osqueryHostID), (.hardwareSerial, r.hardwareSerial), (.hostname, r.hostname),
            ]
            var indexed: [(HostIdentifierField, String)] = []
            for (field, value) in fields where !value.isEmpty {
                let key = value.lowercased()
                byField[field, default: [:]][key, default: []].insert(r.id)
                indexed.append((field, key))
            }
            keys[r.id] = indexed
            knownMissing.remove(r.id)
        }

        mutating func remove(_ id: Int64) {
            for (field, key) in keys.removeValue(forKey: id) ?? [] {
                byField[field]?[key]?.remove(id)
                if byField[field]?[key]?.isEmpty == true { byField[field]?[key] = nil }
            }
            byID[id] = nil
        }

        /// The host `identifier` names, or nil (unknown, or shared by several hosts).
        func resolve(_ identifier: String) -> Int64? {
            let key = identifier.lowercased()
            return try? HostIdentifierField.resolve(key) { field in Array(byField[field]?[key] ?? []) }
        }
    }

    let index = Mutex(Index())
    let store: any FleetStore
    let fullRefreshInterval: TimeInterval
    /// How far back an incremental refresh looks before the previous one started.
    let overlap: TimeInterval
    let clock: @Sendable () -> Date
    /// When the previous refresh started, and the previous full one.
    private let refreshed = Mutex<(last: Date?, lastFull: Date?)>((nil, nil))
    /// Single-host loads under way, by id (one per id however many events ask).
    private let loads = Mutex<[Int64: Task<Void, Never>]>([:])

    init(store: any FleetStore, fullRefreshInterval: TimeInterval = 300, overlap: TimeInterval = 60, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.fullRefreshInterval = fullRefreshInterval
        self.overlap = overlap
        self.clock = clock
    }

    func refresh() async throws {
        let started = clock()
        let (last, lastFull) = refreshed.withLock { $0 }
        if let last, let lastFull, started.timeIntervalSince(lastFull) < fullRefreshInterval {
            let records = try await store.hostFacts(changedSince: last.addingTimeInterval(-overlap))
            index.withLock { index in
                for r in records { index.add(r) }
            }
            refreshed.withLock { $0.last = started }
            return
        }
        let records = try await store.hostFacts()
        var fresh = Index()
        for r in records { fresh.add(r) }
        index.withLock { $0 = fresh }
        refreshed.withLock { $0 = (started, started) }
    }

    /// A host the agent API just enrolled (or re-enrolled): indexed from its enrollment details,
    /// keeping the labels a re-enrolled host already had.
    func enrolled(hostID: Int64, record: EnrollmentRecord) {
        let v = record.vitals
        index.withLock { index in
            index.add(
                HostFactsRecord(
                    id: hostID, osqueryHostID: record.osqueryHostID, hostname: v.hostname ?? "", uuid: v.uuid ?? "",
                    hardwareSerial: v.hardwareSerial ?? "", platform: v.platform ?? "", osVersion: v.osVersion ?? "",
                    primaryIP: v.primaryIP ?? "", primaryMAC: v.primaryMAC ?? "", loggedInUser: v.loggedInUsers?.first ?? "",
                    labels: index.byID[hostID]?.labels ?? []))
        }
    }

    func facts(hostID: Int64) -> HostFacts? {
        let cached: HostFacts?? = index.withLock { index in
            if let facts = index.byID[hostID] { return .some(facts) }
            return index.knownMissing.contains(hostID) ? .some(nil) : nil
        }
        if let cached { return cached }
        startLoad(hostID)
        return nil
    }

    func facts(identifier: String) -> HostFacts? {
        index.withLock { index in index.resolve(identifier).flatMap { index.byID[$0] } }
    }

    /// Loads one host the index does not know, off the caller's path.
    private func startLoad(_ hostID: Int64) {
        loads.withLock { loads in
            guard loads[hostID] == nil else { return }
            loads[hostID] = Task { [self] in
                let record = try? await store.hostFacts(ids: [hostID]).first
                index.withLock { index in
                    if let record { index.add(record) } else { index.knownMissing.insert(hostID) }
                }
                _ = self.loads.withLock { $0.removeValue(forKey: hostID) }
            }
        }
    }

    /// Waits for the single-host loads under way (tests; shutdown has nothing to wait for).
    func loadsSettled() async {
        while let next = loads.withLock({ $0.values.first }) { await next.value }
    }
}
