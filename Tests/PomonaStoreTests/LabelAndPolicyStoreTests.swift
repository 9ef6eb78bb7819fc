import Foundation
import Logging
import PomonaCore
import Testing

@testable import PomonaStore

/// Labels and policies in SQLite: built-ins from the migration, membership and pass/fail written
/// by the StoreWriter, counts, and the queries handed to the check-in path.
@Suite struct LabelAndPolicyStoreTests {
    @Test func builtinLabelsExistAndAreReadOnly() async throws {
        let store = try makeTemporaryStore()
        let names = try await store.labels().map(\.name)
        #expect(names.starts(with: ["All Hosts", "macOS", "Ubuntu Linux", "CentOS Linux", "MS Windows", "Red Hat Linux", "All Linux"]))
        let all = try #require(try await store.label(named: "All Hosts"))
        #expect(all.isBuiltin && !all.isManual)
        await #expect(throws: FleetStoreError.builtin("All Hosts")) { try await store.deleteLabel(id: all.id) }
        await #expect(throws: FleetStoreError.builtin("All Hosts")) { try await store.updateLabel(id: all.id, name: "x", description: nil, hostIDs: nil) }
        #expect(try await store.hostEvaluationQueries().labelCount == 7)
    }

    @Test func dynamicMembershipFollowsAnswersAndIgnoresDeletedLabels() async throws {
        let store = try makeTemporaryStore()
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        let host = try await store.enroll(enrollment("h1", key: 1)).hostID
        let label = try await store.createLabel(LabelDraft(name: "has-slack", query: "SELECT 1 FROM processes WHERE name = 'Slack';"))
        await #expect(throws: FleetStoreError.duplicateName("has-slack")) { try await store.createLabel(LabelDraft(name: "has-slack", query: "SELECT 1;")) }
        let at = Date()
        try await writer.write(.fleet(.labels(hostID: host, members: [(label.id, true), (9_999, true)], at: at)))
        #expect(try await store.hostIDs(inLabel: label.id) == [host])
        #expect(try await store.labels(forHost: host).map(\.name) == ["has-slack"])
        #expect(try await store.label(id: label.id)?.hostCount == 1)
        try await writer.write(.fleet(.labels(hostID: host, members: [(label.id, false)], at: at)))
        #expect(try await store.hostIDs(inLabel: label.id).isEmpty)
        let times = try await store.hostEvaluationTimes()
        #expect(times[host]?.labels != nil && times[host]?.policies == nil)
    }

    @Test func manualLabelsKeepTheirHostListAgainstQueryAnswers() async throws {
        let store = try makeTemporaryStore()
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        let h1 = try await store.enroll(enrollment("h1", key: 1)).hostID
        let h2 = try await store.enroll(enrollment("h2", key: 2)).hostID
        let label = try await store.createLabel(LabelDraft(name: "vip", manual: true, hostIDs: [h1, 4_242]))
        #expect(label.isManual && label.hostCount == 1, "unknown hosts are ignored")
        try await writer.write(.fleet(.labels(hostID: h1, members: [(label.id, false)], at: Date())))
        #expect(try await store.hostIDs(inLabel: label.id) == [h1], "a manual label is not evaluated")
        let updated = try await store.updateLabel(id: label.id, name: "vips", description: "the important ones", hostIDs: [h2])
        #expect(updated.name == "vips" && updated.hostCount == 1)
        #expect(try await store.hostIDs(inLabels: [label.id]) == [h2])
        #expect(try await store.hostEvaluationQueries().labelCount == 7, "manual labels have no query")
    }

    @Test func policyCountsAndPerHostAnswers() async throws {
        let store = try makeTemporaryStore()
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        let h1 = try await store.enroll(enrollment("h1", key: 1)).hostID
        let h2 = try await store.enroll(enrollment("h2", key: 2)).hostID
        let h3 = try await store.enroll(enrollment("h3", key: 3)).hostID
        let policy = try await store.createPolicy(PolicyDraft(name: "FileVault on", query: "SELECT 1 FROM disk_encryption WHERE encrypted = 1;", platform: "darwin"), author: nil)
        let now = Date()
        try await writer.write([
            .fleet(.policies(hostID: h1, results: [(policy.id, true)], at: now)),
            .fleet(.policies(hostID: h2, results: [(policy.id, false)], at: now)),
            .fleet(.policies(hostID: h3, results: [(policy.id, nil)], at: now)),
        ])
        let counted = try #require(try await store.policy(id: policy.id))
        #expect(counted.passingHostCount == 1 && counted.failingHostCount == 1)
        #expect(try await store.policies(forHost: h1).map(\.response) == ["pass"])
        #expect(try await store.policies(forHost: h2).map(\.response) == ["fail"])
        #expect(try await store.policies(forHost: h3).map(\.response) == [""])
        #expect(try await store.hostIDs(policyID: policy.id, passing: false) == [h2])
        // A changed query forgets the old answers.
        var draft = PolicyDraft(name: "FileVault on", query: "SELECT 1 FROM disk_encryption WHERE encrypted = 1 AND name = '/';", platform: "darwin")
        draft.critical = true
        let changed = try await store.updatePolicy(id: policy.id, draft)
        #expect(changed.critical && changed.passingHostCount == 0 && changed.failingHostCount == 0)
        #expect(try await store.hostEvaluationQueries().policyCount == 1)
        #expect(try await store.deletePolicies(ids: [policy.id, 77]) == 1)
        #expect(try await store.policies().isEmpty)
    }

    @Test func savedQueriesOnlyScheduledOnesReachTheConfig() async throws {
        let store = try makeTemporaryStore()
        let before = try await store.configGeneration()
        let saved = try await store.createSavedQuery(SavedQueryDraft(name: "usb", query: "SELECT * FROM usb_devices;", interval: 300), author: nil)
        #expect(try await store.configGeneration() > before)
        #expect(!saved.isScheduled)
        #expect(try await store.queries().isEmpty, "automations off: not in the schedule")
        var draft = SavedQueryDraft(saved)
        draft.automationsEnabled = true
        draft.observerCanRun = true
        let scheduled = try await store.updateSavedQuery(id: saved.id, draft)
        #expect(scheduled.isScheduled && scheduled.observerCanRun)
        #expect(try await store.queries().map(\.name) == ["usb"])
        #expect(try await store.deleteSavedQueries(ids: [saved.id]) == 1)
        #expect(try await store.savedQueries().isEmpty)
    }

    @Test func packScheduleIDsAreStable() async throws {
        let store = try makeTemporaryStore()
        let query = try await store.createSavedQuery(SavedQueryDraft(name: "procs", query: "SELECT * FROM processes;"), author: nil)
        let pack = try await store.createPack(name: "p", description: "", platform: "", disabled: false)
        let scheduled = try await store.schedulePackQuery(packID: pack.id, queryID: query.id, interval: 60, logging: .differential, platform: "", version: nil, shard: nil)
        #expect(scheduled.queryID == query.id && scheduled.interval == 60)
        await #expect(throws: FleetStoreError.duplicateName("procs")) {
            try await store.schedulePackQuery(packID: pack.id, queryID: query.id, interval: 60, logging: .snapshot, platform: "", version: nil, shard: nil)
        }
        let changed = try await store.updatePackScheduledQuery(id: scheduled.id, PackScheduleChange(interval: 120))
        #expect(changed.id == scheduled.id && changed.interval == 120 && changed.logging == .differential)
        #expect(try await store.packScheduledQueries(packID: pack.id).map(\.id) == [scheduled.id])
        #expect(try await store.packs().first?.queries.map(\.interval) == [120], "the config sees the pack query")
        #expect(try await store.deletePackScheduledQuery(id: scheduled.id))
        #expect(try await store.packRecord(id: pack.id)?.queryCount == 0)
    }
}
