import Foundation
import PomonaCore
import PomonaPipeline
import PomonaStore
import Synchronization
import Testing
@testable import PomonaServer

@Suite struct HostFactsCacheTests {
    func record(_ name: String, key: UInt8, uuid: String? = nil, serial: String? = nil, hostname: String? = nil) -> EnrollmentRecord {
        var vitals = HostVitals()
        vitals.uuid = uuid ?? "UUID-\(name)"
        vitals.platform = "darwin"
        vitals.hostname = hostname ?? "\(name).local"
        vitals.hardwareSerial = serial ?? "SER-\(name)"
        return EnrollmentRecord(
            osqueryHostID: name, nodeKeyDigest: NodeKeyDigest(bytes: Array(repeating: key, count: 32))!, enrollSecretID: 1,
            vitals: vitals, remoteIP: "10.0.0.1", now: Date())
    }

    func enroll(_ store: Datastore, _ name: String, key: UInt8) async throws -> Int64 {
        try await store.enroll(record(name, key: key)).hostID
    }

    /// A host that enrolls between two refreshes is enriched from its first event on: the agent
    /// API hands the enrollment to the cache, and the lookup reads no database.
    @Test func hostEnrolledAfterTheRefreshIsFoundByID() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try Datastore(path: directory.url.appendingPathComponent("p.sqlite").path)
        let early = try await enroll(store, "early", key: 1)
        let cache = HostFactsCache(store: store)
        try await cache.refresh()
        let enrollment = record("late", key: 2)
        let late = try await store.enroll(enrollment).hostID
        cache.enrolled(hostID: late, record: enrollment)

        #expect(cache.facts(hostID: early)?.hostname == "early.local")
        #expect(cache.facts(hostID: late)?.uuid == "UUID-late")
        #expect(cache.facts(identifier: "uuid-late")?.id == late, "the enrollment also indexes its identifiers")
        #expect(cache.facts(identifier: "nobody") == nil)
    }

    /// An id the cache has not heard of is loaded alone off the lookup's path (the delivery loop
    /// never waits on SQLite) and served from then on; an id with no host is remembered as missing.
    @Test func anUnknownHostIsLoadedInTheBackground() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try Datastore(path: directory.url.appendingPathComponent("p.sqlite").path)
        let cache = HostFactsCache(store: store)
        try await cache.refresh()
        let late = try await enroll(store, "late", key: 2)

        #expect(cache.facts(hostID: late) == nil, "not known yet: the lookup does not read the database")
        #expect(cache.facts(hostID: 999) == nil)
        await cache.loadsSettled()
        #expect(cache.facts(hostID: late)?.uuid == "UUID-late")
        #expect(cache.facts(identifier: "SER-LATE")?.id == late, "the single-host load also indexes its identifiers")
        #expect(cache.facts(hostID: 999) == nil)
        #expect(cache.index.withLock { $0.knownMissing } == [999])
    }

    /// Identifiers resolve as the store resolves them: unique fields before the hostname, and an
    /// identifier two hosts share names neither (it used to name whichever host loaded last).
    @Test func identifiersResolveByTheStoresRule() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try Datastore(path: directory.url.appendingPathComponent("p.sqlite").path)
        let victim = try await store.enroll(record("victim", key: 1, uuid: "UUID-VICTIM")).hostID
        // Enrolled later, with the victim's UUID as its hostname.
        let squatter = try await store.enroll(record("squatter", key: 2, hostname: "uuid-victim")).hostID
        _ = try await store.enroll(record("clone-a", key: 3, serial: "SER-SHARED")).hostID
        _ = try await store.enroll(record("clone-b", key: 4, serial: "SER-SHARED")).hostID
        let cache = HostFactsCache(store: store)
        try await cache.refresh()

        #expect(cache.facts(identifier: "UUID-VICTIM")?.id == victim)
        #expect(cache.facts(identifier: "squatter")?.id == squatter)
        #expect(cache.facts(identifier: "SER-SHARED") == nil, "shared by two hosts: ambiguous")
        #expect(try await store.hostID(identifier: "UUID-VICTIM") == victim, "the store agrees")
    }

    /// Between full refreshes only changed hosts are read; a full refresh drops deleted hosts.
    @Test func incrementalRefreshPicksUpChangesAndFullRefreshDropsDeletedHosts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try Datastore(path: directory.url.appendingPathComponent("p.sqlite").path)
        let first = try await enroll(store, "first", key: 1)
        let now = MovableClock()
        let cache = HostFactsCache(store: store, fullRefreshInterval: 300, overlap: 1, clock: { now.date })
        try await cache.refresh()
        now.advance(10)
        let second = try await enroll(store, "second", key: 2)
        try await cache.refresh()  // incremental: the new enrollment is in it
        #expect(cache.facts(identifier: "uuid-second")?.id == second, "found without the single-host load")
        #expect(cache.facts(hostID: first)?.hostname == "first.local", "unchanged hosts stay")

        #expect(try await store.deleteHosts(ids: [first]) == [first])
        now.advance(10)
        try await cache.refresh()  // incremental: a deleted host is not seen as a change
        #expect(cache.facts(identifier: "uuid-first")?.id == first)
        now.advance(300)
        try await cache.refresh()  // full
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
