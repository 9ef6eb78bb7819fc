import Foundation
import Logging
import PomonaCore
import Testing

@testable import PomonaStore

/// Live-query campaigns in SQLite: the record, its targets, results through the StoreWriter.
@Suite struct CampaignStoreTests {
    @Test func campaignLifecycleAndResults() async throws {
        let store = try makeTemporaryStore()
        let writer = StoreWriter(store: store, logger: Logger(label: "test"))
        let host = try await store.enroll(enrollment("h1", key: 1)).hostID
        let deadline = Date().addingTimeInterval(60)
        let id = try await store.createCampaign(
            query: "SELECT 1", queryID: nil, user: (7, "a@example.com"), targets: [CampaignTarget(type: "host", id: host), CampaignTarget(type: "label", id: 1)],
            targetedHostCount: 1, onlineHostCount: 1, deadline: deadline)
        let result = LiveQueryHostResult(campaignID: id, hostID: host, rowsJSON: "[{\"1\":\"1\"}]", rowCount: 1, error: nil, statsJSON: nil, receivedAt: Date())
        try await writer.write(.fleet(.campaignResult(result)))
        try await writer.write(.fleet(.campaignResult(result)))  // a resent write replaces
        // An answer for a campaign that does not exist is dropped, not an error.
        try await writer.write(.fleet(.campaignResult(LiveQueryHostResult(campaignID: 999, hostID: host, rowsJSON: "[]", rowCount: 0, error: "x", statsJSON: nil, receivedAt: Date()))))
        #expect(try await store.campaignResults(id: id) == [result].map { var r = $0; r.receivedAt = Date(storeValue: $0.receivedAt.storeValue); return r })
        #expect(try await store.campaignTargets(id: id).map(\.type).sorted() == ["host", "label"])
        let running = try #require(try await store.campaign(id: id))
        #expect(running.status == "running" && running.userEmail == "a@example.com")
        #expect(try await store.closeAbandonedCampaigns() == 1)
        let closed = try #require(try await store.campaign(id: id))
        #expect(closed.status == "finished" && closed.respondedHostCount == 1)
        #expect(try await store.hostNames(ids: [host])[host]?.hostname == "h1.local")
        #expect(try await store.hostID(identifier: "h1.local") == host)
        #expect(try await store.hostID(identifier: "UUID-h1") == host)
        #expect(try await store.hostID(identifier: "nobody") == nil)
    }
}
