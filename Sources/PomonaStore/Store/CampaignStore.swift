import Foundation
import PomonaCore

/// Live-query campaigns: their targets, results and end.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol CampaignStore: Sendable {
    /// Records a new campaign and returns its id (the in-memory campaign is started with it).
    func createCampaign(query: String, queryID: Int64?, user: (id: Int64, email: String)?, targets: [CampaignTarget], targetedHostCount: Int, onlineHostCount: Int, deadline: Date, now: Date) async throws -> Int64
    /// Marks a campaign finished with its final count.
    func finishCampaign(id: Int64, respondedHostCount: Int, at now: Date) async throws
    /// Campaigns a previous run left `running` (the process stopped): nobody will answer them now.
    func closeAbandonedCampaigns(now: Date) async throws -> Int
    func campaign(id: Int64) async throws -> CampaignRecord?
    func campaignTargets(id: Int64) async throws -> [CampaignTarget]
    /// Stored answers of a campaign, in the order they arrived.
    func campaignResults(id: Int64) async throws -> [LiveQueryHostResult]
}

/// The defaults of ``CampaignStore``'s parameters (a protocol requirement cannot have any).
extension CampaignStore {
    public func createCampaign(query: String, queryID: Int64?, user: (id: Int64, email: String)?, targets: [CampaignTarget], targetedHostCount: Int, onlineHostCount: Int, deadline: Date) async throws -> Int64 {
        try await createCampaign(query: query, queryID: queryID, user: user, targets: targets, targetedHostCount: targetedHostCount, onlineHostCount: onlineHostCount, deadline: deadline, now: Date())
    }

    public func finishCampaign(id: Int64, respondedHostCount: Int) async throws {
        try await finishCampaign(id: id, respondedHostCount: respondedHostCount, at: Date())
    }

    public func closeAbandonedCampaigns() async throws -> Int {
        try await closeAbandonedCampaigns(now: Date())
    }
}
