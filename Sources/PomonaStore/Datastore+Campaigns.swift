import Foundation
import GRDB
import PomonaCore

/// A live-query campaign as stored (its history outlives the in-memory campaign).
public struct CampaignRecord: Sendable, Equatable {
    public var id: Int64
    public var query: String
    public var queryID: Int64?
    public var userID: Int64?
    public var userEmail: String
    /// `running` or `finished`.
    public var status: String
    public var targetedHostCount: Int
    public var onlineHostCount: Int
    public var respondedHostCount: Int
    public var createdAt: Date
    public var deadline: Date
    public var finishedAt: Date?
}

/// What a live query's targets were, as the request named them.
public struct CampaignTarget: Sendable, Equatable, Hashable {
    /// `host`, `label` or `all`.
    public var type: String
    public var id: Int64
    public init(type: String, id: Int64) {
        self.type = type
        self.id = id
    }
}

/// A host's name as live-query results show it.
public struct HostNames: Sendable, Equatable {
    public var hostname: String
    public var displayName: String
}

/// Results of label, policy and live queries, written by the ``StoreWriter`` in its group commit
/// (so a busy `distributed/write` costs one transaction for many hosts).
public enum FleetResultWrite: Sendable {
    /// Label answers of one host: member or not (errors are left out: membership stays as it was).
    case labels(hostID: Int64, members: [(labelID: Int64, member: Bool)], at: Date)
    /// Policy answers of one host: pass, fail or `nil` (the query failed).
    case policies(hostID: Int64, results: [(policyID: Int64, passes: Bool?)], at: Date)
    /// One host's answer to a live query.
    case campaignResult(LiveQueryHostResult)

    func apply(_ db: Database) throws {
        switch self {
        case .labels(let hostID, let members, let at):
            let add = try db.cachedStatement(sql: """
                INSERT INTO label_membership (label_id, host_id, updated_at)
                SELECT id, ?, ? FROM labels WHERE id = ? AND membership_type = 'dynamic'
                AND EXISTS (SELECT 1 FROM hosts WHERE id = ?)
                ON CONFLICT(label_id, host_id) DO UPDATE SET updated_at = excluded.updated_at
                """)
            let remove = try db.cachedStatement(sql: """
                DELETE FROM label_membership WHERE label_id = ? AND host_id = ?
                AND label_id IN (SELECT id FROM labels WHERE membership_type = 'dynamic')
                """)
            for (labelID, member) in members {
                if member {
                    try add.execute(arguments: [hostID, at.storeValue, labelID, hostID])
                } else {
                    try remove.execute(arguments: [labelID, hostID])
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO host_evaluations (host_id, labels_updated_at) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM hosts WHERE id = ?)
                    ON CONFLICT(host_id) DO UPDATE SET labels_updated_at = excluded.labels_updated_at
                    """, arguments: [hostID, at.storeValue, hostID])
        case .policies(let hostID, let results, let at):
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO policy_membership (policy_id, host_id, passes, updated_at)
                SELECT id, ?, ?, ? FROM policies WHERE id = ? AND EXISTS (SELECT 1 FROM hosts WHERE id = ?)
                ON CONFLICT(policy_id, host_id) DO UPDATE SET passes = excluded.passes, updated_at = excluded.updated_at
                """)
            for (policyID, passes) in results {
                try upsert.execute(arguments: [hostID, passes, at.storeValue, policyID, hostID])
            }
            try db.execute(
                sql: """
                    INSERT INTO host_evaluations (host_id, policies_updated_at) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM hosts WHERE id = ?)
                    ON CONFLICT(host_id) DO UPDATE SET policies_updated_at = excluded.policies_updated_at
                    """, arguments: [hostID, at.storeValue, hostID])
        case .campaignResult(let r):
            // A resent write replaces the earlier answer (the hub counts a host once).
            try db.cachedStatement(sql: """
                INSERT INTO campaign_results (campaign_id, host_id, status, error, rows, row_count, stats, received_at)
                SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = ?)
                ON CONFLICT(campaign_id, host_id) DO UPDATE SET status = excluded.status, error = excluded.error,
                rows = excluded.rows, row_count = excluded.row_count, stats = excluded.stats, received_at = excluded.received_at
                """
            ).execute(arguments: [
                r.campaignID, r.hostID, r.error == nil ? 0 : 1, r.error, r.rowsJSON, r.rowCount, r.statsJSON, r.receivedAt.storeValue,
                r.campaignID,
            ])
        }
    }
}

extension Datastore {
    static func campaignRecord(_ row: Row) -> CampaignRecord {
        CampaignRecord(
            id: row["id"], query: row["query"], queryID: row["query_id"], userID: row["user_id"], userEmail: row["user_email"],
            status: row["status"], targetedHostCount: row["targeted_host_count"], onlineHostCount: row["online_host_count"],
            respondedHostCount: row["responded_host_count"], createdAt: Date(storeValue: row["created_at"]),
            deadline: Date(storeValue: row["deadline"]), finishedAt: (row["finished_at"] as Double?).map(Date.init(storeValue:)))
    }

    /// Records a new campaign and returns its id (the in-memory campaign is started with it).
    public func createCampaign(
        query: String, queryID: Int64?, user: (id: Int64, email: String)?, targets: [CampaignTarget], targetedHostCount: Int, onlineHostCount: Int, deadline: Date, now: Date
    ) async throws -> Int64 {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO campaigns (query, query_id, user_id, user_email, status, targeted_host_count, online_host_count, created_at, deadline)
                    VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)
                    """,
                arguments: [query, queryID, user?.id, user?.email ?? "", targetedHostCount, onlineHostCount, now.storeValue, deadline.storeValue])
            let id = db.lastInsertedRowID
            for target in Set(targets) {
                try db.execute(
                    sql: "INSERT INTO campaign_targets (campaign_id, target_type, target_id) VALUES (?, ?, ?)",
                    arguments: [id, target.type, target.id])
            }
            return id
        }
    }

    /// Marks a campaign finished with its final count.
    public func finishCampaign(id: Int64, respondedHostCount: Int, at now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE campaigns SET status = 'finished', responded_host_count = ?, finished_at = ? WHERE id = ?",
                arguments: [respondedHostCount, now.storeValue, id])
        }
    }

    /// Campaigns a previous run left `running` (the process stopped): nobody will answer them now.
    public func closeAbandonedCampaigns(now: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE campaigns SET status = 'finished', finished_at = ?,
                    responded_host_count = (SELECT COUNT(*) FROM campaign_results r WHERE r.campaign_id = campaigns.id)
                    WHERE status = 'running'
                    """, arguments: [now.storeValue])
            return db.changesCount
        }
    }

    public func campaign(id: Int64) async throws -> CampaignRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM campaigns WHERE id = ?", arguments: [id]).map(Datastore.campaignRecord)
        }
    }

    public func campaignTargets(id: Int64) async throws -> [CampaignTarget] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT target_type, target_id FROM campaign_targets WHERE campaign_id = ? ORDER BY target_type, target_id", arguments: [id])
                .map { CampaignTarget(type: $0["target_type"], id: $0["target_id"]) }
        }
    }

    /// Stored answers of a campaign, in the order they arrived.
    public func campaignResults(id: Int64) async throws -> [LiveQueryHostResult] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM campaign_results WHERE campaign_id = ? ORDER BY received_at, host_id", arguments: [id]).map { row in
                LiveQueryHostResult(
                    campaignID: id, hostID: row["host_id"], rowsJSON: row["rows"], rowCount: row["row_count"], error: row["error"],
                    statsJSON: row["stats"], receivedAt: Date(storeValue: row["received_at"]))
            }
        }
    }

    /// Hostnames for result messages (hosts that no longer exist are absent).
    public func hostNames(ids: some Collection<Int64>) async throws -> [Int64: HostNames] {
        if ids.isEmpty { return [:] }
        let ids = Array(ids)
        return try await pool.read { db in
            var out: [Int64: HostNames] = [:]
            let statement = try db.cachedStatement(sql: "SELECT hostname, computer_name FROM hosts WHERE id = ?")
            for id in ids {
                guard let row = try Row.fetchOne(statement, arguments: [id]) else { continue }
                let hostname: String = row["hostname"]
                let computer: String = row["computer_name"]
                out[id] = HostNames(hostname: hostname, displayName: computer.isEmpty ? hostname : computer)
            }
            return out
        }
    }

    /// The ids of hosts that exist among `ids`.
    public func existingHostIDs(_ ids: [Int64]) async throws -> Set<Int64> {
        try await pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM hosts WHERE id = ?")
            return Set(try ids.filter { try Bool.fetchOne(statement, arguments: [$0]) == true })
        }
    }
}
