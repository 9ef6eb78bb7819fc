import Foundation
import Logging
import PomonaCore
import Testing

@testable import PomonaStore

/// A datastore in a fresh temporary file (real SQLite, WAL mode).
func makeTemporaryStore() throws -> Datastore {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return try Datastore(path: directory.appendingPathComponent("pomona.sqlite").path)
}

func digest(_ byte: UInt8) -> NodeKeyDigest { NodeKeyDigest(bytes: Array(repeating: byte, count: 32))! }

func enrollment(_ identifier: String, key: UInt8, uuid: String? = nil) -> EnrollmentRecord {
    var vitals = HostVitals()
    vitals.uuid = uuid ?? "UUID-\(identifier)"
    vitals.platform = "darwin"
    vitals.hostname = "\(identifier).local"
    return EnrollmentRecord(osqueryHostID: identifier, nodeKeyDigest: digest(key), enrollSecretID: 1, vitals: vitals, remoteIP: "10.0.0.1", now: Date())
}

@Suite struct DatastoreTests {
    @Test func walModeAndIntegrity() async throws {
        let store = try makeTemporaryStore()
        #expect(try await store.journalMode() == "wal")
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test func reEnrollmentReusesTheRecordAndReplacesTheKey() async throws {
        let store = try makeTemporaryStore()
        let first = try await store.enroll(enrollment("h1", key: 1))
        let second = try await store.enroll(enrollment("h1", key: 2))
        #expect(first.hostID == second.hostID)
        #expect(second.reusedExistingHost)
        let states = try await store.loadCheckInStates()
        #expect(states.count == 1)
        #expect(states[0].1 == digest(2))
        #expect(states[0].0.platform == .darwin)
    }

    @Test func clonedMachinesAreDetectedByHardwareUUID() async throws {
        let store = try makeTemporaryStore()
        _ = try await store.enroll(enrollment("h1", key: 1, uuid: "SAME"))
        let clone = try await store.enroll(enrollment("h2", key: 2, uuid: "SAME"))
        #expect(clone.duplicateUUIDHostIDs == [1])
    }

    @Test func configChangesBumpTheGeneration() async throws {
        let store = try makeTemporaryStore()
        let g0 = try await store.configGeneration()
        try await store.saveQuery(ScheduledQuery(name: "q", sql: "SELECT 1;", interval: 60))
        let g1 = try await store.configGeneration()
        _ = try await store.addEnrollSecret("secret-secret-secret")
        let g2 = try await store.configGeneration()
        try await store.savePack(QueryPack(name: "p", queries: [ScheduledQuery(name: "a", sql: "SELECT 1;", interval: 10)]))
        let g3 = try await store.configGeneration()
        #expect(g0 < g1 && g1 < g2 && g2 < g3)
        #expect(try await store.packs().first?.queries.map(\.name) == ["a"])
    }

    @Test func seedingHappensOnceSoRemovalSticks() async throws {
        let store = try makeTemporaryStore()
        let queries = [ScheduledQuery(name: "apps", sql: "SELECT name FROM apps;", interval: 86400, platform: "darwin")]
        #expect(try await store.seedQueriesOnce(queries, marker: "builtin:test"))
        #expect(try await store.deleteBuiltinQueries(marker: "builtin:test") == 1)
        #expect(try await !store.seedQueriesOnce(queries, marker: "builtin:test"))
        #expect(try await store.queries().isEmpty)
    }

    @Test func agentOptionsRememberServedNames() async throws {
        let store = try makeTemporaryStore()
        try await store.setAgentOptions(try AgentOptions(config: try JSONValue.parse(Array(#"{"options":{"logger_tls_compress":true}}"#.utf8))))
        try await store.setAgentOptions(try AgentOptions(config: try JSONValue.parse(Array(#"{"options":{}}"#.utf8))))
        #expect(try await store.servedOptionNames() == ["logger_tls_compress"])
        #expect(try await store.agentOptions()?.options.isEmpty == true)
    }

    @Test func carveBlocksAreCheckedForOrderSizeAndRange() async throws {
        let store = try makeTemporaryStore()
        let host = try await store.enroll(enrollment("h1", key: 1))
        _ = try await store.beginCarve(hostID: host.hostID, sessionID: "s", carveID: "c", requestID: "r", blockCount: 2, blockSize: 4, carveSize: 6)
        await #expect(throws: CarveBlockError.outOfOrder(block: 1, expected: 0)) { try await store.storeCarveBlock(sessionID: "s", blockID: 1, data: Data([1, 2])) }
        await #expect(throws: CarveBlockError.wrongSize(block: 0, expected: 4, got: 3)) { try await store.storeCarveBlock(sessionID: "s", blockID: 0, data: Data([1, 2, 3])) }
        await #expect(throws: CarveBlockError.blockOutOfRange(2, count: 2)) { try await store.storeCarveBlock(sessionID: "s", blockID: 2, data: Data()) }
        await #expect(throws: CarveBlockError.unknownSession) { try await store.storeCarveBlock(sessionID: "x", blockID: 0, data: Data()) }
        _ = try await store.storeCarveBlock(sessionID: "s", blockID: 0, data: Data([1, 2, 3, 4]))
        let done = try await store.storeCarveBlock(sessionID: "s", blockID: 1, data: Data([5, 6]))
        #expect(done.completedAt != nil)
        #expect(try await store.carveArchive(id: done.id) == Data([1, 2, 3, 4, 5, 6]))
    }

    @Test func deletingAHostRemovesItsSoftwareAndUsers() async throws {
        let store = try makeTemporaryStore()
        let host = try await store.enroll(enrollment("h1", key: 1))
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        try await writer.write([
            .detail(hostID: host.hostID, outcome: .software([SoftwareItem(name: "Safari", version: "17", source: "apps")]), at: Date()),
            .detail(hostID: host.hostID, outcome: .users([HostUser(uid: 501, username: "alice", type: "", groupname: "staff", shell: "/bin/zsh")]), at: Date()),
        ])
        #expect(try await store.software(hostID: host.hostID).count == 1)
        try await store.deleteHost(id: host.hostID)
        #expect(try await store.software(hostID: host.hostID).isEmpty)
        #expect(try await store.users(hostID: host.hostID).isEmpty)
    }
}

@Suite struct StoreWriterTests {
    @Test func concurrentWritesAreGroupCommitted() async throws {
        let store = try makeTemporaryStore()
        var hosts: [Int64] = []
        for i in 0..<50 { hosts.append(try await store.enroll(enrollment("h\(i)", key: UInt8(i))).hostID) }
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        let seenAt = Date(timeIntervalSince1970: 1_800_000_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in hosts {
                group.addTask { try await writer.write(.seen([id: seenAt])) }
            }
            try await group.waitForAll()
        }
        let transactions = await writer.transactions
        #expect(transactions < hosts.count, "writes queued behind a running transaction share the next one")
        let seen = try await store.host(id: hosts[7])?.seenAt
        #expect(seen == seenAt)
    }

    @Test func seenTimesNeverMoveBackwards() async throws {
        let store = try makeTemporaryStore()
        let id = try await store.enroll(enrollment("h", key: 1)).hostID
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        try await writer.write(.seen([id: Date(timeIntervalSince1970: 2000)]))
        try await writer.write(.seen([id: Date(timeIntervalSince1970: 1000)]))
        #expect(try await store.host(id: id)?.seenAt == Date(timeIntervalSince1970: 2000))
    }
}

@Suite struct DistributedResultTests {
    @Test func aResentResultReplacesTheOlderOne() async throws {
        let store = try makeTemporaryStore()
        let id = try await store.enroll(enrollment("h", key: 1)).hostID
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        func result(_ rows: String, _ count: Int) -> StoreWrite {
            .distributedResult(DistributedResult(hostID: id, name: "fleet_distributed_query_7", status: 0, message: "", rowsJSON: rows, rowCount: count, statsJSON: nil, receivedAt: Date()))
        }
        try await writer.write(result(#"[{"a":"1"}]"#, 1))
        try await writer.write(result(#"[{"a":"1"},{"a":"2"}]"#, 2))
        let stored = try await store.distributedResults(name: "fleet_distributed_query_7")
        #expect(stored.count == 1)
        #expect(stored.first?.rowCount == 2)
    }
}

@Suite("EnrichmentVitals")
struct EnrichmentVitalsTests {
    @Test func picksTheSameFieldsAsDecodingAllTheVitals() {
        var vitals = HostVitals()
        vitals.hostname = "mac-1"
        vitals.osVersion = "macOS 15.1"
        vitals.primaryIP = "10.0.0.7"
        vitals.primaryMAC = "a4:83:e7:00:00:01"
        vitals.loggedInUsers = ["alice", "bob"]
        vitals.memoryBytes = 17_179_869_184
        vitals.diskEncryptionEnabled = true
        let stored = Datastore.encodeVitals(vitals)
        #expect(
            EnrichmentVitals(json: stored)
                == EnrichmentVitals(osVersion: "macOS 15.1", primaryIP: "10.0.0.7", primaryMAC: "a4:83:e7:00:00:01", loggedInUser: "alice"))
    }

    @Test func missingNullOrUnreadableFieldsAreEmpty() {
        let empty = EnrichmentVitals(osVersion: "", primaryIP: "", primaryMAC: "", loggedInUser: "")
        #expect(EnrichmentVitals(json: "{}") == empty)
        #expect(EnrichmentVitals(json: #"{"osVersion":null,"loggedInUsers":[]}"#) == empty)
        #expect(EnrichmentVitals(json: #"{"osVersion":"13","primaryIP":"#) == empty)
        #expect(EnrichmentVitals(json: "") == empty)
        #expect(EnrichmentVitals(json: #"{"loggedInUsers":[null,"carol"],"primaryMAC":"m"}"#).loggedInUser == "carol")
    }
}
