import Foundation
import GRDB
import PomonaCore

/// A policy (a yes/no question asked of every host) with its pass/fail counts.
public struct PolicyRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var query: String
    public var description: String
    public var resolution: String
    public var platform: String
    public var critical: Bool
    public var authorID: Int64?
    public var authorName: String
    public var authorEmail: String
    public var passingHostCount: Int
    public var failingHostCount: Int
    public var createdAt: Date
    public var updatedAt: Date
}

/// What a create or update of a policy sets.
public struct PolicyDraft: Sendable, Equatable {
    public var name: String
    public var query: String
    public var description: String
    public var resolution: String
    public var platform: String
    public var critical: Bool

    public init(name: String, query: String, description: String = "", resolution: String = "", platform: String = "", critical: Bool = false) {
        self.name = name
        self.query = query
        self.description = description
        self.resolution = resolution
        self.platform = platform
        self.critical = critical
    }
}

/// A policy's answer on one host: `pass`, `fail`, or `""` when not known (not run yet, or it failed).
public struct HostPolicyStatus: Sendable, Equatable {
    public var policy: PolicyRecord
    public var response: String
}

extension Datastore {
    static let policyColumns = """
        p.*,
        (SELECT COUNT(*) FROM policy_membership m WHERE m.policy_id = p.id AND m.passes = 1) AS passing_host_count,
        (SELECT COUNT(*) FROM policy_membership m WHERE m.policy_id = p.id AND m.passes = 0) AS failing_host_count
        """

    static func policyRecord(_ row: Row) -> PolicyRecord {
        PolicyRecord(
            id: row["id"], name: row["name"], query: row["query"], description: row["description"], resolution: row["resolution"],
            platform: row["platform"], critical: row["critical"], authorID: row["author_id"], authorName: row["author_name"],
            authorEmail: row["author_email"], passingHostCount: row["passing_host_count"], failingHostCount: row["failing_host_count"],
            createdAt: Date(storeValue: row["created_at"]), updatedAt: Date(storeValue: row["updated_at"]))
    }

    public func policies() async throws -> [PolicyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Datastore.policyColumns) FROM policies p ORDER BY p.id").map(Datastore.policyRecord)
        }
    }

    public func policy(id: Int64) async throws -> PolicyRecord? {
        try await pool.read { db in try Datastore.policy(db, id: id) }
    }

    static func policy(_ db: Database, id: Int64) throws -> PolicyRecord? {
        try Row.fetchOne(db, sql: "SELECT \(policyColumns) FROM policies p WHERE p.id = ?", arguments: [id]).map(policyRecord)
    }

    public func createPolicy(_ draft: PolicyDraft, author: (id: Int64, name: String, email: String)?, now: Date) async throws -> PolicyRecord {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM policies WHERE name = ?", arguments: [draft.name]) == true {
                throw FleetStoreError.duplicateName(draft.name)
            }
            try db.execute(
                sql: """
                    INSERT INTO policies (name, query, description, resolution, platform, critical, author_id, author_name, author_email, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    draft.name, draft.query, draft.description, draft.resolution, draft.platform, draft.critical, author?.id,
                    author?.name ?? "", author?.email ?? "", now.storeValue, now.storeValue,
                ])
            return try Datastore.policy(db, id: db.lastInsertedRowID)!
        }
    }

    /// Replaces a policy's fields. A changed query or platform forgets every host's answer (it
    /// answered a different question), as Fleet does.
    public func updatePolicy(id: Int64, _ draft: PolicyDraft, now: Date) async throws -> PolicyRecord {
        try await pool.write { db in
            guard let existing = try Datastore.policy(db, id: id) else { throw FleetStoreError.notFound("policy \(id)") }
            if draft.name != existing.name, try Bool.fetchOne(db, sql: "SELECT 1 FROM policies WHERE name = ?", arguments: [draft.name]) == true {
                throw FleetStoreError.duplicateName(draft.name)
            }
            try db.execute(
                sql: """
                    UPDATE policies SET name = ?, query = ?, description = ?, resolution = ?, platform = ?, critical = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [draft.name, draft.query, draft.description, draft.resolution, draft.platform, draft.critical, now.storeValue, id])
            if draft.query != existing.query || draft.platform != existing.platform {
                try db.execute(sql: "DELETE FROM policy_membership WHERE policy_id = ?", arguments: [id])
            }
            return try Datastore.policy(db, id: id)!
        }
    }

    /// Deletes policies by id. - Returns: how many existed.
    public func deletePolicies(ids: [Int64]) async throws -> Int {
        try await pool.write { db in
            var count = 0
            for id in Set(ids) {
                try db.execute(sql: "DELETE FROM policies WHERE id = ?", arguments: [id])
                count += db.changesCount
            }
            return count
        }
    }

    /// Every policy with this host's answer (for `GET /hosts/{id}`).
    public func policies(forHost hostID: Int64) async throws -> [HostPolicyStatus] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT \(Datastore.policyColumns), pm.passes AS host_passes FROM policies p
                    LEFT JOIN policy_membership pm ON pm.policy_id = p.id AND pm.host_id = ?
                    ORDER BY p.id
                    """, arguments: [hostID]
            ).map { row in
                let passes: Bool? = row["host_passes"]
                return HostPolicyStatus(policy: Datastore.policyRecord(row), response: passes.map { $0 ? "pass" : "fail" } ?? "")
            }
        }
    }

    /// Hosts whose latest answer to a policy is pass (`true`) or fail (`false`).
    public func hostIDs(policyID: Int64, passing: Bool) async throws -> [Int64] {
        try await pool.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT host_id FROM policy_membership WHERE policy_id = ? AND passes = ? ORDER BY host_id",
                arguments: [policyID, passing])
        }
    }
}
