import Foundation
import GRDB
import PomonaCore

/// `pomona apply` / fleetctl specs for queries, labels, policies and packs: each kind is applied in
/// one transaction (all documents or none), upserting by name.
public struct LabelSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    public var query: String
    public var platform: String
    public var manual: Bool
    /// Host identifiers (manual labels), resolved by `Datastore.resolveHostID`.
    public var hosts: [String]

    public init(name: String, description: String, query: String, platform: String, manual: Bool, hosts: [String]) {
        self.name = name
        self.description = description
        self.query = query
        self.platform = platform
        self.manual = manual
        self.hosts = hosts
    }
}

/// A query of a pack spec, naming a saved query.
public struct PackQuerySpec: Sendable, Equatable {
    public var query: String
    public var name: String
    public var description: String
    public var interval: Int
    public var logging: LoggingType
    public var platform: String
    public var version: String?
    public var shard: Int?
    public var denylist: Bool

    public init(query: String, name: String, description: String, interval: Int, logging: LoggingType, platform: String, version: String?, shard: Int?, denylist: Bool) {
        self.query = query
        self.name = name
        self.description = description
        self.interval = interval
        self.logging = logging
        self.platform = platform
        self.version = version
        self.shard = shard
        self.denylist = denylist
    }
}

/// A pack spec: the pack and its queries, each naming a saved query.
public struct PackSpec: Sendable, Equatable {
    public var name: String
    public var description: String
    public var platform: String
    public var disabled: Bool
    public var queries: [PackQuerySpec]
    /// `targets.labels`: label names (Fleet specs name labels, not ids). Applying a spec replaces
    /// the label targets; host targets (set through `/packs`) are kept.
    public var targetLabels: [String]

    public init(name: String, description: String, platform: String, disabled: Bool, queries: [PackQuerySpec], targetLabels: [String] = []) {
        self.name = name
        self.description = description
        self.platform = platform
        self.disabled = disabled
        self.queries = queries
        self.targetLabels = targetLabels
    }
}

extension Datastore {
    /// Creates or updates labels by name. Dynamic labels whose query or platform changed get the
    /// new one (membership is re-evaluated); built-in labels cannot be changed.
    /// - Throws: ``FleetStoreError`` (nothing is applied then).
    public func applyLabelSpecs(_ specs: [LabelSpec], now: Date) async throws {
        try await pool.write { db in try Datastore.applyLabelSpecs(db, specs, now: now) }
    }

    static func applyLabelSpecs(_ db: Database, _ specs: [LabelSpec], now: Date) throws {
        for spec in specs {
            let existing = try Row.fetchOne(db, sql: "SELECT * FROM labels WHERE name = ?", arguments: [spec.name])
            var hostIDs: [Int64] = []
            for identifier in spec.hosts {
                guard let id = try Datastore.resolveHostID(db, identifier: identifier) else {
                    throw FleetStoreError.notFound("host \"\(identifier)\" (label \"\(spec.name)\")")
                }
                hostIDs.append(id)
            }
            let labelID: Int64
            if let existing {
                labelID = existing["id"]
                if (existing["label_type"] as String) == "builtin" {
                    // Applying an unchanged built-in (a round trip of `get labels`) is fine.
                    if (existing["query"] as String) == spec.query { continue }
                    throw FleetStoreError.builtin(spec.name)
                }
                let queryChanged = (existing["query"] as String) != spec.query || (existing["platform"] as String) != spec.platform
                try db.execute(
                    sql: "UPDATE labels SET description = ?, query = ?, platform = ?, membership_type = ?, updated_at = ? WHERE id = ?",
                    arguments: [spec.description, spec.manual ? "" : spec.query, spec.platform, spec.manual ? "manual" : "dynamic", now.storeValue, labelID])
                if queryChanged && !spec.manual { try db.execute(sql: "DELETE FROM label_membership WHERE label_id = ?", arguments: [labelID]) }
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO labels (name, description, query, platform, label_type, membership_type, created_at, updated_at)
                        VALUES (?, ?, ?, ?, 'regular', ?, ?, ?)
                        """,
                    arguments: [spec.name, spec.description, spec.manual ? "" : spec.query, spec.platform, spec.manual ? "manual" : "dynamic", now.storeValue, now.storeValue])
                labelID = db.lastInsertedRowID
            }
            if spec.manual { try Datastore.setMembers(db, labelID: labelID, hostIDs: hostIDs, now: now) }
        }
    }

    /// Label specs for `GET /spec/labels` (manual labels list their members by hostname).
    public func labelSpecs() async throws -> [(spec: LabelSpec, builtin: Bool)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM labels ORDER BY id").map { row in
                let id: Int64 = row["id"]
                let manual = (row["membership_type"] as String) == "manual"
                let hosts = manual
                    ? try String.fetchAll(
                        db, sql: "SELECT h.hostname FROM label_membership m JOIN hosts h ON h.id = m.host_id WHERE m.label_id = ? ORDER BY h.hostname",
                        arguments: [id]) : []
                return (
                    LabelSpec(name: row["name"], description: row["description"], query: row["query"], platform: row["platform"], manual: manual, hosts: hosts),
                    (row["label_type"] as String) == "builtin"
                )
            }
        }
    }

    /// Creates or updates saved queries by name, in one transaction (and bumps the config generation).
    public func applyQuerySpecs(_ drafts: [SavedQueryDraft], author: (id: Int64, name: String, email: String)?, now: Date) async throws {
        try await pool.write { db in try Datastore.applyQuerySpecs(db, drafts, author: author, now: now) }
    }

    static func applyQuerySpecs(_ db: Database, _ drafts: [SavedQueryDraft], author: (id: Int64, name: String, email: String)?, now: Date) throws {
        for d in drafts {
            try db.execute(
                sql: """
                    INSERT INTO queries (name, query, description, interval, platform, min_osquery_version, logging, automations_enabled,
                    observer_can_run, discard_data, author_id, author_name, author_email, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET query = excluded.query, description = excluded.description, interval = excluded.interval,
                    platform = excluded.platform, min_osquery_version = excluded.min_osquery_version, logging = excluded.logging,
                    automations_enabled = excluded.automations_enabled, observer_can_run = excluded.observer_can_run,
                    discard_data = excluded.discard_data, updated_at = excluded.updated_at
                    """,
                arguments: [
                    d.name, d.query, d.description, d.interval, d.platform, d.minOsqueryVersion, d.logging.rawValue, d.automationsEnabled,
                    d.observerCanRun, d.discardData, author?.id, author?.name ?? "", author?.email ?? "", now.storeValue, now.storeValue,
                ])
        }
        if !drafts.isEmpty { try Datastore.bumpGeneration(db) }
    }

    /// Creates or updates policies by name, in one transaction. A changed query or platform
    /// forgets the hosts' old answers.
    public func applyPolicySpecs(_ drafts: [PolicyDraft], author: (id: Int64, name: String, email: String)?, now: Date) async throws {
        try await pool.write { db in try Datastore.applyPolicySpecs(db, drafts, author: author, now: now) }
    }

    static func applyPolicySpecs(_ db: Database, _ drafts: [PolicyDraft], author: (id: Int64, name: String, email: String)?, now: Date) throws {
        for d in drafts {
            if let existing = try Row.fetchOne(db, sql: "SELECT id, query, platform FROM policies WHERE name = ?", arguments: [d.name]) {
                let id: Int64 = existing["id"]
                if (existing["query"] as String) != d.query || (existing["platform"] as String) != d.platform {
                    try db.execute(sql: "DELETE FROM policy_membership WHERE policy_id = ?", arguments: [id])
                }
                try db.execute(
                    sql: "UPDATE policies SET query = ?, description = ?, resolution = ?, platform = ?, critical = ?, updated_at = ? WHERE id = ?",
                    arguments: [d.query, d.description, d.resolution, d.platform, d.critical, now.storeValue, id])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO policies (name, query, description, resolution, platform, critical, author_id, author_name, author_email, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        d.name, d.query, d.description, d.resolution, d.platform, d.critical, author?.id, author?.name ?? "", author?.email ?? "",
                        now.storeValue, now.storeValue,
                    ])
            }
        }
    }

    /// Creates or replaces packs by name, their queries taken from saved queries by name, in one
    /// transaction. An unknown query name fails the whole apply.
    public func applyPackSpecs(_ packs: [PackSpec], now: Date) async throws {
        try await pool.write { db in try Datastore.applyPackSpecs(db, packs, now: now) }
    }

    static func applyPackSpecs(_ db: Database, _ packs: [PackSpec], now: Date) throws {
        for pack in packs {
            try db.execute(
                sql: """
                    INSERT INTO packs (name, description, platform, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET description = excluded.description, platform = excluded.platform,
                    disabled = excluded.disabled, updated_at = excluded.updated_at
                    """, arguments: [pack.name, pack.description, pack.platform, pack.disabled, now.storeValue, now.storeValue])
            let packID = try Int64.fetchOne(db, sql: "SELECT id FROM packs WHERE name = ?", arguments: [pack.name])!
            try db.execute(sql: "DELETE FROM pack_queries WHERE pack_id = ?", arguments: [packID])
            for q in pack.queries {
                guard let saved = try Row.fetchOne(db, sql: "SELECT id, query FROM queries WHERE name = ?", arguments: [q.query]) else {
                    throw FleetStoreError.notFound("query \"\(q.query)\" (pack \"\(pack.name)\")")
                }
                let name = q.name.isEmpty ? q.query : q.name
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO pack_queries (pack_id, name, query, description, interval, platform, min_osquery_version, shard, logging, denylist)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [packID, name, saved["query"] as String, q.description, q.interval, q.platform, q.version, q.shard, q.logging.rawValue, q.denylist])
                try db.execute(
                    sql: "INSERT INTO pack_query_ids (pack_id, name, query_id) VALUES (?, ?, ?) ON CONFLICT(pack_id, name) DO UPDATE SET query_id = excluded.query_id",
                    arguments: [packID, name, saved["id"] as Int64])
            }
            try Datastore.assignPackQueryIDs(db, packID: packID)
            var labelIDs: Set<Int64> = []
            for label in pack.targetLabels {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM labels WHERE name = ?", arguments: [label]) else {
                    throw FleetStoreError.notFound("label \"\(label)\" (targets of pack \"\(pack.name)\")")
                }
                labelIDs.insert(id)
            }
            try Datastore.setPackTargets(db, packID: packID, PackTargets(labelIDs: labelIDs), keepHosts: true)
        }
        if !packs.isEmpty { try Datastore.bumpGeneration(db) }
    }

    /// Pack specs for `GET /spec/packs`: each query names its saved query (or itself, for packs
    /// imported from osquery pack files).
    public func packSpecs() async throws -> [PackSpec] {
        try await pool.write { db in
            try Row.fetchAll(db, sql: "SELECT * FROM packs ORDER BY id").map { row in
                let packID: Int64 = row["id"]
                try Datastore.assignPackQueryIDs(db, packID: packID)
                let queries = try Row.fetchAll(
                    db, sql: """
                        SELECT q.*, s.name AS saved_name FROM pack_queries q
                        LEFT JOIN pack_query_ids i ON i.pack_id = q.pack_id AND i.name = q.name
                        LEFT JOIN queries s ON s.id = i.query_id
                        WHERE q.pack_id = ? ORDER BY q.name
                        """, arguments: [packID]
                ).map { q in
                    PackQuerySpec(
                        query: (q["saved_name"] as String?) ?? q["name"], name: q["name"], description: q["description"], interval: q["interval"],
                        logging: LoggingType(rawValue: q["logging"]) ?? .snapshot, platform: q["platform"], version: q["min_osquery_version"],
                        shard: q["shard"], denylist: q["denylist"])
                }
                let targetLabels = try String.fetchAll(
                    db, sql: """
                        SELECT l.name FROM pack_targets t JOIN labels l ON l.id = t.target_id
                        WHERE t.pack_id = ? AND t.target_type = 'label' ORDER BY l.name
                        """, arguments: [packID])
                return PackSpec(
                    name: row["name"], description: row["description"], platform: row["platform"], disabled: row["disabled"], queries: queries,
                    targetLabels: targetLabels)
            }
        }
    }
}
