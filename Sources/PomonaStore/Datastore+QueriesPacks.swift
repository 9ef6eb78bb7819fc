import Foundation
import GRDB
import PomonaCore

/// A legacy pack as Fleet's `/packs` API shows it.
public struct PackRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var description: String
    public var platform: String
    public var disabled: Bool
    public var queryCount: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// Empty: every host of the pack's platform.
    public var targets = PackTargets()
    /// Hosts the pack is served to now: its targets (or every host) on its platforms.
    public var hostCount = 0
}

/// A query in a pack, with the id Fleet's `/packs/schedule/{id}` addresses it by.
public struct PackScheduledQuery: Sendable, Equatable {
    public var id: Int64
    public var packID: Int64
    public var name: String
    /// The saved query it was scheduled from (`nil` for queries imported with a pack file).
    public var queryID: Int64?
    public var query: String
    public var description: String
    public var interval: Int
    public var logging: LoggingType
    public var platform: String
    public var version: String?
    public var shard: Int?
    public var denylist: Bool
}

/// Changes to a pack's scheduled query (`nil`: leave as is).
public struct PackScheduleChange: Sendable, Equatable {
    public var interval: Int?
    public var logging: LoggingType?
    public var platform: String?
    public var version: String??
    public var shard: Int??

    public init(interval: Int? = nil, logging: LoggingType? = nil, platform: String? = nil, version: String?? = nil, shard: Int?? = nil) {
        self.interval = interval
        self.logging = logging
        self.platform = platform
        self.version = version
        self.shard = shard
    }
}

extension Datastore {
    static let packColumns = "p.*, (SELECT COUNT(*) FROM pack_queries q WHERE q.pack_id = p.id) AS query_count"

    static func packRecord(_ db: Database, _ row: Row) throws -> PackRecord {
        var record = PackRecord(
            id: row["id"], name: row["name"], description: row["description"], platform: row["platform"], disabled: row["disabled"],
            queryCount: row["query_count"], createdAt: Date(storeValue: row["created_at"]), updatedAt: Date(storeValue: row["updated_at"]),
            targets: try packTargets(db, packID: row["id"]))
        record.hostCount = try packHostCount(db, platform: record.platform, targets: record.targets)
        return record
    }

    /// How many hosts get a pack: those it targets (all hosts when it has no targets) whose
    /// platform is one of the pack's. Hosts whose platform is not known yet get every pack.
    static func packHostCount(_ db: Database, platform: String, targets: PackTargets) throws -> Int {
        let families = OsqueryPlatform.parseFilter(platform) ?? Set(OsqueryPlatform.allCases)
        var sql = "SELECT platform, COUNT(*) AS n FROM hosts"
        var arguments: StatementArguments = []
        if !targets.isEmpty {
            sql += """
                 WHERE id IN (SELECT host_id FROM label_membership WHERE label_id IN (SELECT value FROM json_each(?)))
                 OR id IN (SELECT value FROM json_each(?))
                """
            arguments += ["[" + targets.labelIDs.map(String.init).joined(separator: ",") + "]"]
            arguments += ["[" + targets.hostIDs.map(String.init).joined(separator: ",") + "]"]
        }
        sql += " GROUP BY platform"
        return try Row.fetchAll(db, sql: sql, arguments: arguments).reduce(0) { total, row in
            let family = OsqueryPlatform(hostPlatform: row["platform"])
            return family.map(families.contains) ?? true ? total + (row["n"] as Int) : total
        }
    }

    public func packRecords() async throws -> [PackRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Datastore.packColumns) FROM packs p ORDER BY p.id").map { try Datastore.packRecord(db, $0) }
        }
    }

    // MARK: Targets

    static func packTargets(_ db: Database, packID: Int64) throws -> PackTargets {
        var targets = PackTargets()
        for row in try Row.fetchAll(db, sql: "SELECT target_type, target_id FROM pack_targets WHERE pack_id = ?", arguments: [packID]) {
            if (row["target_type"] as String) == "label" { targets.labelIDs.insert(row["target_id"]) } else { targets.hostIDs.insert(row["target_id"]) }
        }
        return targets
    }

    /// Replaces a pack's label targets (and its host targets, unless `keepHosts`). Every target
    /// must exist when it is set.
    static func setPackTargets(_ db: Database, packID: Int64, _ targets: PackTargets, keepHosts: Bool = false) throws {
        for id in targets.labelIDs.sorted() where try Bool.fetchOne(db, sql: "SELECT 1 FROM labels WHERE id = ?", arguments: [id]) != true {
            throw FleetStoreError.notFound("label \(id) (pack target)")
        }
        for id in targets.hostIDs.sorted() where try Bool.fetchOne(db, sql: "SELECT 1 FROM hosts WHERE id = ?", arguments: [id]) != true {
            throw FleetStoreError.notFound("host \(id) (pack target)")
        }
        try db.execute(
            sql: "DELETE FROM pack_targets WHERE pack_id = ? AND (target_type = 'label' OR ?)", arguments: [packID, !keepHosts])
        for id in targets.labelIDs {
            try db.execute(sql: "INSERT INTO pack_targets (pack_id, target_type, target_id) VALUES (?, 'label', ?)", arguments: [packID, id])
        }
        if !keepHosts {
            for id in targets.hostIDs {
                try db.execute(sql: "INSERT INTO pack_targets (pack_id, target_type, target_id) VALUES (?, 'host', ?)", arguments: [packID, id])
            }
        }
    }

    /// Which of `labelIDs` each host is a member of (hosts in none are absent).
    public func labelMemberships(labelIDs: Set<Int64>) async throws -> [Int64: Set<Int64>] {
        guard !labelIDs.isEmpty else { return [:] }
        let list = "[" + labelIDs.map(String.init).joined(separator: ",") + "]"
        return try await pool.read { db in
            var members: [Int64: Set<Int64>] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT host_id, label_id FROM label_membership WHERE label_id IN (SELECT value FROM json_each(?))", arguments: [list])
            while let row = try rows.next() { members[row["host_id"], default: []].insert(row["label_id"]) }
            return members
        }
    }

    public func packRecord(id: Int64) async throws -> PackRecord? {
        try await pool.read { db in try Datastore.packRecord(db, id: id) }
    }

    static func packRecord(_ db: Database, id: Int64) throws -> PackRecord? {
        try Row.fetchOne(db, sql: "SELECT \(packColumns) FROM packs p WHERE p.id = ?", arguments: [id]).map { try packRecord(db, $0) }
    }

    public func createPack(
        name: String, description: String, platform: String, disabled: Bool, targets: PackTargets, now: Date
    ) async throws -> PackRecord {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM packs WHERE name = ?", arguments: [name]) == true { throw FleetStoreError.duplicateName(name) }
            try db.execute(
                sql: "INSERT INTO packs (name, description, platform, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [name, description, platform, disabled, now.storeValue, now.storeValue])
            let id = db.lastInsertedRowID
            try Datastore.setPackTargets(db, packID: id, targets)
            try Datastore.bumpGeneration(db)
            return try Datastore.packRecord(db, id: id)!
        }
    }

    /// Changes the given fields; `targets` replaces both label and host targets when given.
    public func updatePack(
        id: Int64, name: String?, description: String?, platform: String?, disabled: Bool?, targets: PackTargets?, now: Date
    ) async throws -> PackRecord {
        try await pool.write { db in
            guard let existing = try Datastore.packRecord(db, id: id) else { throw FleetStoreError.notFound("pack \(id)") }
            if let name, name != existing.name, try Bool.fetchOne(db, sql: "SELECT 1 FROM packs WHERE name = ?", arguments: [name]) == true {
                throw FleetStoreError.duplicateName(name)
            }
            try db.execute(
                sql: "UPDATE packs SET name = ?, description = ?, platform = ?, disabled = ?, updated_at = ? WHERE id = ?",
                arguments: [
                    name ?? existing.name, description ?? existing.description, platform ?? existing.platform, disabled ?? existing.disabled,
                    now.storeValue, id,
                ])
            if let targets { try Datastore.setPackTargets(db, packID: id, targets) }
            try Datastore.bumpGeneration(db)
            return try Datastore.packRecord(db, id: id)!
        }
    }

    public func deletePack(id: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM packs WHERE id = ?", arguments: [id])
            let deleted = db.changesCount > 0
            if deleted { try Datastore.bumpGeneration(db) }
            return deleted
        }
    }

    /// A pack's queries with stable ids (created on first sight: packs imported from files have none yet).
    public func packScheduledQueries(packID: Int64) async throws -> [PackScheduledQuery] {
        try await pool.write { db in
            try Datastore.assignPackQueryIDs(db, packID: packID)
            return try Row.fetchAll(
                db, sql: """
                    SELECT i.id AS sid, i.query_id, q.* FROM pack_queries q JOIN pack_query_ids i ON i.pack_id = q.pack_id AND i.name = q.name
                    WHERE q.pack_id = ? ORDER BY i.id
                    """, arguments: [packID]
            ).map(Datastore.packScheduledQuery)
        }
    }

    static func assignPackQueryIDs(_ db: Database, packID: Int64) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO pack_query_ids (pack_id, name) SELECT pack_id, name FROM pack_queries WHERE pack_id = ?;
                DELETE FROM pack_query_ids WHERE pack_id = ? AND name NOT IN (SELECT name FROM pack_queries WHERE pack_id = ?);
                """, arguments: [packID, packID, packID])
    }

    static func packScheduledQuery(_ row: Row) -> PackScheduledQuery {
        PackScheduledQuery(
            id: row["sid"], packID: row["pack_id"], name: row["name"], queryID: row["query_id"], query: row["query"],
            description: row["description"], interval: row["interval"], logging: LoggingType(rawValue: row["logging"]) ?? .snapshot,
            platform: row["platform"], version: row["min_osquery_version"], shard: row["shard"], denylist: row["denylist"])
    }

    static func packScheduledQuery(_ db: Database, id: Int64) throws -> PackScheduledQuery? {
        try Row.fetchOne(
            db, sql: """
                SELECT i.id AS sid, i.query_id, q.* FROM pack_query_ids i JOIN pack_queries q ON i.pack_id = q.pack_id AND i.name = q.name
                WHERE i.id = ?
                """, arguments: [id]
        ).map(packScheduledQuery)
    }

    /// Adds a saved query to a pack (its SQL is copied: the pack keeps running it as scheduled).
    public func schedulePackQuery(
        packID: Int64, queryID: Int64, interval: Int, logging: LoggingType, platform: String, version: String?, shard: Int?
    ) async throws -> PackScheduledQuery {
        try await pool.write { db in
            guard try Datastore.packRecord(db, id: packID) != nil else { throw FleetStoreError.notFound("pack \(packID)") }
            guard let query = try Datastore.savedQuery(db, id: queryID) else { throw FleetStoreError.notFound("query \(queryID)") }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM pack_queries WHERE pack_id = ? AND name = ?", arguments: [packID, query.name]) == true {
                throw FleetStoreError.duplicateName(query.name)
            }
            try db.execute(
                sql: """
                    INSERT INTO pack_queries (pack_id, name, query, description, interval, platform, min_osquery_version, shard, logging, denylist)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                arguments: [packID, query.name, query.query, query.description, interval, platform, version, shard, logging.rawValue])
            try db.execute(
                sql: """
                    INSERT INTO pack_query_ids (pack_id, name, query_id) VALUES (?, ?, ?)
                    ON CONFLICT(pack_id, name) DO UPDATE SET query_id = excluded.query_id
                    """, arguments: [packID, query.name, queryID])
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM pack_query_ids WHERE pack_id = ? AND name = ?", arguments: [packID, query.name])!
            try Datastore.bumpGeneration(db)
            return try Datastore.packScheduledQuery(db, id: id)!
        }
    }

    public func updatePackScheduledQuery(id: Int64, _ change: PackScheduleChange) async throws -> PackScheduledQuery {
        try await pool.write { db in
            guard let existing = try Datastore.packScheduledQuery(db, id: id) else { throw FleetStoreError.notFound("scheduled query \(id)") }
            try db.execute(
                sql: """
                    UPDATE pack_queries SET interval = ?, logging = ?, platform = ?, min_osquery_version = ?, shard = ?
                    WHERE pack_id = ? AND name = ?
                    """,
                arguments: [
                    change.interval ?? existing.interval, (change.logging ?? existing.logging).rawValue, change.platform ?? existing.platform,
                    change.version ?? existing.version, change.shard ?? existing.shard, existing.packID, existing.name,
                ])
            try Datastore.bumpGeneration(db)
            return try Datastore.packScheduledQuery(db, id: id)!
        }
    }

    public func deletePackScheduledQuery(id: Int64) async throws -> Bool {
        try await pool.write { db in
            guard let existing = try Datastore.packScheduledQuery(db, id: id) else { return false }
            try db.execute(sql: "DELETE FROM pack_queries WHERE pack_id = ? AND name = ?", arguments: [existing.packID, existing.name])
            try db.execute(sql: "DELETE FROM pack_query_ids WHERE id = ?", arguments: [id])
            try Datastore.bumpGeneration(db)
            return true
        }
    }
}
