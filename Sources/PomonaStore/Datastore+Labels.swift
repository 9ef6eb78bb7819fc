import Foundation
import GRDB
import PomonaCore

/// Why a labels/policies/queries change was refused (the admin API turns these into Fleet errors).
public enum FleetStoreError: Error, Sendable, Equatable {
    /// Another record already has this name.
    case duplicateName(String)
    /// Built-in records cannot be changed or deleted.
    case builtin(String)
    case notFound(String)
    /// A host identifier that names several hosts (see `resolveHostID`): the fields it matched in
    /// and how many hosts (at least).
    case ambiguousHost(identifier: String, fields: [String], hostCount: Int)
}

/// A label as the admin API shows it.
public struct LabelRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var description: String
    public var query: String
    public var platform: String
    /// `builtin` or `regular`.
    public var labelType: String
    /// `dynamic` (membership by query) or `manual` (a host list).
    public var membershipType: String
    public var hostCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public var isBuiltin: Bool { labelType == "builtin" }
    public var isManual: Bool { membershipType == "manual" }
}

/// What a create or update of a label sets.
public struct LabelDraft: Sendable, Equatable {
    public var name: String
    public var description: String
    public var query: String
    public var platform: String
    public var manual: Bool
    /// Members of a manual label (replaces the list when not `nil`).
    public var hostIDs: [Int64]?

    public init(name: String, description: String = "", query: String = "", platform: String = "", manual: Bool = false, hostIDs: [Int64]? = nil) {
        self.name = name
        self.description = description
        self.query = query
        self.platform = platform
        self.manual = manual
        self.hostIDs = hostIDs
    }
}

extension Datastore {
    static let labelColumns = """
        l.*, (SELECT COUNT(*) FROM label_membership m WHERE m.label_id = l.id) AS host_count
        """

    static func labelRecord(_ row: Row) -> LabelRecord {
        LabelRecord(
            id: row["id"], name: row["name"], description: row["description"], query: row["query"], platform: row["platform"],
            labelType: row["label_type"], membershipType: row["membership_type"], hostCount: row["host_count"],
            createdAt: Date(storeValue: row["created_at"]), updatedAt: Date(storeValue: row["updated_at"]))
    }

    public func labels() async throws -> [LabelRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Datastore.labelColumns) FROM labels l ORDER BY l.id").map(Datastore.labelRecord)
        }
    }

    public func label(id: Int64) async throws -> LabelRecord? {
        try await pool.read { db in try Datastore.label(db, id: id) }
    }

    static func label(_ db: Database, id: Int64) throws -> LabelRecord? {
        try Row.fetchOne(db, sql: "SELECT \(labelColumns) FROM labels l WHERE l.id = ?", arguments: [id]).map(labelRecord)
    }

    public func label(named name: String) async throws -> LabelRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Datastore.labelColumns) FROM labels l WHERE l.name = ?", arguments: [name]).map(Datastore.labelRecord)
        }
    }

    /// Creates a label. Manual members that are not hosts are ignored.
    public func createLabel(_ draft: LabelDraft, authorID: Int64?, now: Date) async throws -> LabelRecord {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM labels WHERE name = ?", arguments: [draft.name]) == true {
                throw FleetStoreError.duplicateName(draft.name)
            }
            try db.execute(
                sql: """
                    INSERT INTO labels (name, description, query, platform, label_type, membership_type, author_id, created_at, updated_at)
                    VALUES (?, ?, ?, ?, 'regular', ?, ?, ?, ?)
                    """,
                arguments: [
                    draft.name, draft.description, draft.manual ? "" : draft.query, draft.platform, draft.manual ? "manual" : "dynamic",
                    authorID, now.storeValue, now.storeValue,
                ])
            let id = db.lastInsertedRowID
            if draft.manual { try Datastore.setMembers(db, labelID: id, hostIDs: draft.hostIDs ?? [], now: now) }
            return try Datastore.label(db, id: id)!
        }
    }

    /// Updates name, description and (manual labels) members. A dynamic label's query and
    /// platform cannot change (Fleet's rule: delete and re-create), so they are left as they are.
    public func updateLabel(id: Int64, name: String?, description: String?, hostIDs: [Int64]?, now: Date) async throws -> LabelRecord {
        try await pool.write { db in
            guard let existing = try Datastore.label(db, id: id) else { throw FleetStoreError.notFound("label \(id)") }
            if existing.isBuiltin { throw FleetStoreError.builtin(existing.name) }
            if let name, name != existing.name,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM labels WHERE name = ?", arguments: [name]) == true
            {
                throw FleetStoreError.duplicateName(name)
            }
            try db.execute(
                sql: "UPDATE labels SET name = ?, description = ?, updated_at = ? WHERE id = ?",
                arguments: [name ?? existing.name, description ?? existing.description, now.storeValue, id])
            if existing.isManual, let hostIDs { try Datastore.setMembers(db, labelID: id, hostIDs: hostIDs, now: now) }
            return try Datastore.label(db, id: id)!
        }
    }

    static func setMembers(_ db: Database, labelID: Int64, hostIDs: [Int64], now: Date) throws {
        try db.execute(sql: "DELETE FROM label_membership WHERE label_id = ?", arguments: [labelID])
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO label_membership (label_id, host_id, updated_at)
            SELECT ?, id, ? FROM hosts WHERE id = ?
            """)
        for hostID in Set(hostIDs) { try insert.execute(arguments: [labelID, now.storeValue, hostID]) }
    }

    /// Deletes a regular label (built-in ones are refused).
    /// - Returns: `false` when there is no such label.
    public func deleteLabel(id: Int64) async throws -> Bool {
        try await pool.write { db in
            guard let existing = try Datastore.label(db, id: id) else { return false }
            if existing.isBuiltin { throw FleetStoreError.builtin(existing.name) }
            try db.execute(sql: "DELETE FROM labels WHERE id = ?", arguments: [id])
            return true
        }
    }

    /// Members of a label, by host id (for `GET /hosts?label_id=` and live-query targets).
    public func hostIDs(inLabel labelID: Int64) async throws -> [Int64] {
        try await pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT host_id FROM label_membership WHERE label_id = ? ORDER BY host_id", arguments: [labelID])
        }
    }

    /// Hosts in any of the labels.
    public func hostIDs(inLabels labelIDs: [Int64]) async throws -> Set<Int64> {
        if labelIDs.isEmpty { return [] }
        return try await pool.read { db in
            let marks = Array(repeating: "?", count: labelIDs.count).joined(separator: ",")
            return Set(try Int64.fetchAll(
                db, sql: "SELECT DISTINCT host_id FROM label_membership WHERE label_id IN (\(marks))", arguments: StatementArguments(labelIDs)))
        }
    }

    /// SQL a host query can join on to filter by label: `hosts.id IN (<this>)` with one argument,
    /// the label id. (Kept here so the label tables are only spelled in this module's label code.)
    public static let hostIDsInLabelSQL = "SELECT host_id FROM label_membership WHERE label_id = ?"

    /// The labels a host is a member of.
    public func labels(forHost hostID: Int64) async throws -> [LabelRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT \(Datastore.labelColumns) FROM labels l JOIN label_membership lm ON lm.label_id = l.id
                    WHERE lm.host_id = ? ORDER BY l.id
                    """, arguments: [hostID]
            ).map(Datastore.labelRecord)
        }
    }

    // MARK: - Check-in queries

    /// The dynamic-label and policy queries for ``HostRegistry/setEvaluationQueries(_:)``.
    public func hostEvaluationQueries() async throws -> HostEvaluationQueries {
        try await pool.read { db in
            let labels = try Row.fetchAll(db, sql: "SELECT id, query, platform FROM labels WHERE membership_type = 'dynamic' AND query != ''")
                .map { HostEvaluationQuery(id: $0["id"], sql: $0["query"], platform: $0["platform"]) }
            let policies = try Row.fetchAll(db, sql: "SELECT id, query, platform FROM policies")
                .map { HostEvaluationQuery(id: $0["id"], sql: $0["query"], platform: $0["platform"]) }
            let labelsChanged = try Double.fetchOne(db, sql: "SELECT MAX(updated_at) FROM labels WHERE membership_type = 'dynamic'")
            let policiesChanged = try Double.fetchOne(db, sql: "SELECT MAX(updated_at) FROM policies")
            return HostEvaluationQueries(
                labels: labels, policies: policies, labelsChangedAt: labelsChanged.map(Date.init(storeValue:)) ?? .distantPast,
                policiesChangedAt: policiesChanged.map(Date.init(storeValue:)) ?? .distantPast)
        }
    }

    /// When each host last answered label and policy queries.
    public func hostEvaluationTimes() async throws -> [Int64: (labels: Date?, policies: Date?)] {
        try await pool.read { db in
            var out: [Int64: (labels: Date?, policies: Date?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM host_evaluations") {
                out[row["host_id"]] = (
                    (row["labels_updated_at"] as Double?).map(Date.init(storeValue:)),
                    (row["policies_updated_at"] as Double?).map(Date.init(storeValue:))
                )
            }
            return out
        }
    }
}
