import Foundation
import PomonaCore
import Testing

@testable import PomonaStore

/// `Datastore.resolveHostID`: the one order in which every admin route resolves a host identifier.
@Suite struct HostIdentifierResolutionTests {
    /// Enrolls a host whose fields are all given (the hostname included, which an agent chooses freely).
    func enroll(_ store: Datastore, key: UInt8, osqueryID: String, uuid: String, serial: String, hostname: String) async throws -> Int64 {
        var vitals = HostVitals()
        vitals.uuid = uuid
        vitals.hardwareSerial = serial
        vitals.hostname = hostname
        vitals.platform = "darwin"
        return try await store.enroll(
            EnrollmentRecord(osqueryHostID: osqueryID, nodeKeyDigest: digest(key), enrollSecretID: 1, vitals: vitals, remoteIP: "10.0.0.1", now: Date())
        ).hostID
    }

    @Test func uniqueIdentifiersComeBeforeTheHostname() async throws {
        let store = try makeTemporaryStore()
        let victim = try await enroll(store, key: 1, osqueryID: "osq-victim", uuid: "UUID-VICTIM", serial: "SER-VICTIM", hostname: "victim")
        // Enrolled later with hostname = the victim's UUID (the probe's attack): it must not capture it.
        let squatter = try await enroll(store, key: 2, osqueryID: "osq-squatter", uuid: "UUID-S", serial: "SER-S", hostname: "UUID-VICTIM")
        #expect(try await store.hostID(identifier: "UUID-VICTIM") == victim)
        #expect(try await store.hostID(identifier: "osq-victim") == victim)
        #expect(try await store.hostID(identifier: "SER-VICTIM") == victim)
        #expect(try await store.hostID(identifier: "victim") == victim)
        #expect(try await store.hostID(identifier: "UUID-S") == squatter)
        #expect(try await store.hostID(identifier: "nobody") == nil)
        // The full record lookup (GET /hosts/identifier) uses the same function.
        #expect(try await store.host(identifier: "UUID-VICTIM", nodeKeyDigest: nil)?.id == victim)
    }

    @Test func aUniqueIdentifierTakenInAnotherUniqueFieldIsRefused() async throws {
        let store = try makeTemporaryStore()
        _ = try await enroll(store, key: 1, osqueryID: "osq-victim", uuid: "UUID-VICTIM", serial: "SER-VICTIM", hostname: "victim")
        // osquery's host identifier is agent-chosen too: one equal to the victim's serial makes the
        // serial name two hosts, which is refused, not resolved to either.
        _ = try await enroll(store, key: 2, osqueryID: "SER-VICTIM", uuid: "UUID-S", serial: "SER-S", hostname: "s")
        await #expect(throws: FleetStoreError.ambiguousHost(identifier: "SER-VICTIM", fields: ["osquery host id", "hardware serial"], hostCount: 2)) {
            try await store.hostID(identifier: "SER-VICTIM")
        }
        // One host having the identifier in two fields (osquery host id = uuid, a common setup) is one host.
        let same = try await enroll(store, key: 3, osqueryID: "UUID-C", uuid: "UUID-C", serial: "SER-C", hostname: "c")
        #expect(try await store.hostID(identifier: "UUID-C") == same)
    }

    @Test func anIdentifierSeveralHostsShareIsRefused() async throws {
        let store = try makeTemporaryStore()
        _ = try await enroll(store, key: 1, osqueryID: "osq-a", uuid: "CLONED-UUID", serial: "SER-A", hostname: "same-name")
        _ = try await enroll(store, key: 2, osqueryID: "osq-b", uuid: "CLONED-UUID", serial: "SER-B", hostname: "same-name")
        await #expect(throws: FleetStoreError.ambiguousHost(identifier: "CLONED-UUID", fields: ["uuid"], hostCount: 2)) {
            try await store.hostID(identifier: "CLONED-UUID")
        }
        await #expect(throws: FleetStoreError.ambiguousHost(identifier: "same-name", fields: ["hostname"], hostCount: 2)) {
            try await store.host(identifier: "same-name", nodeKeyDigest: nil)
        }
        // The shared identifiers do not stop the unique ones from working.
        #expect(try await store.hostID(identifier: "SER-B") != nil)
    }

    @Test func anEmptyIdentifierNamesNoHost() async throws {
        let store = try makeTemporaryStore()
        // Empty is the stored default of uuid and serial, so "" would otherwise match every such host.
        _ = try await enroll(store, key: 1, osqueryID: "osq-a", uuid: "", serial: "", hostname: "a")
        #expect(try await store.hostID(identifier: "") == nil)
    }

    @Test func manualLabelSpecsResolveTheSameWay() async throws {
        let store = try makeTemporaryStore()
        let victim = try await enroll(store, key: 1, osqueryID: "osq-victim", uuid: "UUID-VICTIM", serial: "SER-VICTIM", hostname: "victim")
        _ = try await enroll(store, key: 2, osqueryID: "osq-squatter", uuid: "UUID-S", serial: "SER-S", hostname: "UUID-VICTIM")
        try await store.applyLabelSpecs([LabelSpec(name: "watched", description: "", query: "", platform: "", manual: true, hosts: ["UUID-VICTIM"])])
        let label = try #require(try await store.label(named: "watched"))
        let members = try await store.hostIDs(inLabel: label.id)
        #expect(members == [victim])
    }
}
