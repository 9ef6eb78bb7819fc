import Foundation
import PomonaPipeline
import PomonaStore
import Synchronization

/// The enrich stage's view of the fleet: every host's facts in memory, looked up by id or by an
/// identifier a collector event carries (uuid, hostname, hardware serial, osquery host id).
/// Refreshed from the datastore every few seconds by a periodic service; the pipeline never
/// waits on SQLite.
final class HostFactsCache: HostFactsProvider {
    struct Index: Sendable {
        var byID: [Int64: HostFacts] = [:]
        var byIdentifier: [String: Int64] = [:]
    }

    let index = Mutex(Index())
    let store: Datastore

    init(store: Datastore) {
        self.store = store
    }

    func refresh() throws {
        let records = try store.hostFacts()
        var fresh = Index()
        for r in records {
            fresh.byID[r.id] = HostFacts(
                id: r.id, hostname: r.hostname, uuid: r.uuid, hardwareSerial: r.hardwareSerial, platform: r.platform,
                osVersion: r.osVersion, primaryIP: r.primaryIP, primaryMAC: r.primaryMAC, loggedInUser: r.loggedInUser, labels: r.labels)
            // Later (newer) hosts win a shared identifier, e.g. a re-imaged machine's hostname.
            for identifier in [r.uuid, r.hostname, r.hardwareSerial, r.osqueryHostID] where !identifier.isEmpty {
                fresh.byIdentifier[identifier.lowercased()] = r.id
            }
        }
        index.withLock { $0 = fresh }
    }

    func facts(hostID: Int64) -> HostFacts? {
        index.withLock { $0.byID[hostID] }
    }

    func facts(identifier: String) -> HostFacts? {
        index.withLock { index in index.byIdentifier[identifier.lowercased()].flatMap { index.byID[$0] } }
    }
}
