import Foundation
import PomonaCore
import PomonaPipeline
import PomonaStore
import Synchronization
import Testing
@testable import PomonaServer

@Suite struct HostFactsCacheTests {
    func enroll(_ store: Datastore, _ name: String, key: UInt8) throws -> Int64 {
        var vitals = HostVitals()
        vitals.uuid = "UUID-\(name)"
        vitals.platform = "darwin"
        vitals.hostname = "\(name).local"
        let record = EnrollmentRecord(
            osqueryHostID: name, nodeKeyDigest: NodeKeyDigest(bytes: Array(repeating: key, count: 32))!, enrollSecretID: 1,
            vitals: vitals, remoteIP: "10.0.0.1", now: Date())
        return try store.enroll(record).hostID
    }

    /// A host that enrolls between two refreshes is enriched from its first event on.
    @Test func hostEnrolledAfterTheRefreshIsFoundByID() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try Datastore(path: directory.url.appendingPathComponent("p.sqlite").path)
        let early = try enroll(store, "early", key: 1)
        let cache = HostFactsCache(store: store)
        try cache.refresh()
        let late = try enroll(store, "late", key: 2)

        #expect(cache.facts(hostID: early)?.hostname == "early.local")
        #expect(cache.facts(hostID: late)?.uuid == "UUID-late")
        #expect(cache.facts(identifier: "uuid-late")?.id == late, "the single-host load also indexes its identifiers")
        #expect(cache.facts(hostID: 999) == nil)
        #expect(cache.facts(identifier: "nobody") == nil)
    }

    /// Between full refreshes only changed hosts are read; a full refresh drops deleted hosts.
    @Test func incrementalRefreshPicksUpChangesAndFullRefreshDropsDeletedHosts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try Datastore(path: directory.url.appendingPathComponent("p.sqlite").path)
        let first = try enroll(store, "first", key: 1)
        let now = MovableClock()
        let cache = HostFactsCache(store: store, fullRefreshInterval: 300, overlap: 1, clock: { now.date })
        try cache.refresh()
        now.advance(10)
        let second = try enroll(store, "second", key: 2)
        try cache.refresh()  // incremental: the new enrollment is in it
        #expect(cache.facts(identifier: "uuid-second")?.id == second, "found without the single-host load")
        #expect(cache.facts(hostID: first)?.hostname == "first.local", "unchanged hosts stay")

        #expect(try store.deleteHosts(ids: [first]) == [first])
        now.advance(10)
        try cache.refresh()  // incremental: a deleted host is not seen as a change
        #expect(cache.facts(identifier: "uuid-first")?.id == first)
        now.advance(300)
        try cache.refresh()  // full
        #expect(cache.facts(identifier: "uuid-first") == nil)
        #expect(cache.facts(identifier: "uuid-second")?.id == second)
    }
}

/// A clock the test moves by hand.
final class MovableClock: Sendable {
    private let now = Mutex(Date())
    var date: Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
