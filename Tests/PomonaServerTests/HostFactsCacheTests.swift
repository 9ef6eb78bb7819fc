import Foundation
import PomonaCore
import PomonaPipeline
import PomonaStore
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
}
