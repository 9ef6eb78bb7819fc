import Foundation
import Logging
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAgentAPI

/// Packs with targets reach only the hosts they target, through `config(for:hostID:)`.
@Suite struct PackTargetsConfigTests {
    static let pack = QueryPack(
        name: "incident-response", platform: "darwin",
        queries: [ScheduledQuery(name: "ir_processes", sql: "SELECT pid, name FROM processes;", interval: 60)])

    func hostID(_ store: Datastore, _ name: String) async throws -> Int64 {
        try #require(try await store.hostIDs(HostListFilter(query: name)).first)
    }

    func hasPack(_ state: AgentConfigState, _ hostID: Int64) throws -> Bool {
        let bytes = try #require(state.config(for: .darwin, hostID: hostID))
        return try JSONValue.parse(bytes)["packs"]?["incident-response"] != nil
    }

    @Test func aPackAimedAtALabelGoesOnlyToItsMembersAndFollowsMembership() async throws {
        let fixture = try await AgentFixture()
        _ = try await fixture.enroll(identifier: "mac-in")
        _ = try await fixture.enroll(identifier: "mac-out")
        let store = fixture.store
        let inside = try await hostID(store, "mac-in"), outside = try await hostID(store, "mac-out")
        let label = try await store.createLabel(LabelDraft(name: "IR targets", manual: true, hostIDs: [inside]))
        try await store.savePack(Self.pack)
        let record = try #require(try await store.packRecords().first { $0.name == "incident-response" })
        _ = try await store.updatePack(id: record.id, name: nil, description: nil, platform: nil, disabled: nil, targets: PackTargets(labelIDs: [label.id]))

        #expect(try await store.packRecord(id: record.id)?.hostCount == 1, "Fleet's total_hosts_count: the label's one member")
        let state = AgentConfigState(store: store, logger: Logger(label: "test"), membershipReloadInterval: .zero)
        try await state.refresh(force: true)
        #expect(try hasPack(state, inside))
        #expect(try !hasPack(state, outside))
        #expect(state.config(for: .darwin, hostID: outside) == state.config(for: .darwin), "untargeted hosts share the platform's bytes")
        #expect(try JSONValue.parse(state.config(for: .darwin, hostID: inside)!)["packs"]?["Global"] != nil, "the rest of the schedule is kept")

        // Membership changes without a generation change are picked up by the next refresh.
        _ = try await store.updateLabel(id: label.id, name: nil, description: nil, hostIDs: [inside, outside])
        try await state.refresh()
        #expect(try hasPack(state, outside))
        #expect(try await store.packRecord(id: record.id)?.hostCount == 2)

        // Aimed at one host by id instead.
        _ = try await store.updatePack(id: record.id, name: nil, description: nil, platform: nil, disabled: nil, targets: PackTargets(hostIDs: [outside]))
        try await state.refresh()
        #expect(try !hasPack(state, inside))
        #expect(try hasPack(state, outside))
    }

    /// Deleting the only label a pack targets must not widen the pack to every host.
    @Test func aDeletedTargetLabelMatchesNobody() async throws {
        let fixture = try await AgentFixture()
        _ = try await fixture.enroll(identifier: "mac-1")
        let store = fixture.store
        let host = try await hostID(store, "mac-1")
        let label = try await store.createLabel(LabelDraft(name: "pilot", manual: true, hostIDs: [host]))
        try await store.savePack(Self.pack)
        let record = try #require(try await store.packRecords().first { $0.name == "incident-response" })
        _ = try await store.updatePack(id: record.id, name: nil, description: nil, platform: nil, disabled: nil, targets: PackTargets(labelIDs: [label.id]))
        #expect(try await store.deleteLabel(id: label.id))
        let state = AgentConfigState(store: store, logger: Logger(label: "test"))
        try await state.refresh(force: true)
        #expect(try !hasPack(state, host))
        #expect(try await store.packRecord(id: record.id)?.targets.labelIDs == [label.id], "the dangling target stays visible")
    }

    @Test func anUntargetedPackCountsTheHostsOfItsPlatforms() async throws {
        let fixture = try await AgentFixture()
        _ = try await fixture.enroll(identifier: "mac-1")
        _ = try await fixture.enroll(identifier: "mac-2")
        try await fixture.store.savePack(Self.pack)
        try await fixture.store.savePack(QueryPack(name: "linux-only", platform: "linux", queries: []))
        let packs = try await fixture.store.packRecords()
        #expect(packs.first { $0.name == "incident-response" }?.hostCount == 2)
        #expect(packs.first { $0.name == "linux-only" }?.hostCount == 0)
    }

    @Test func targetsMustExistWhenSet() async throws {
        let fixture = try await AgentFixture()
        try await fixture.store.savePack(Self.pack)
        let record = try #require(try await fixture.store.packRecords().first)
        await #expect(throws: FleetStoreError.notFound("label 4242 (pack target)")) {
            _ = try await fixture.store.updatePack(
                id: record.id, name: nil, description: nil, platform: nil, disabled: nil, targets: PackTargets(labelIDs: [4242]))
        }
    }
}
