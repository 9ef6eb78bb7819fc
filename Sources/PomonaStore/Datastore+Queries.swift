import Foundation
import GRDB
import PomonaCore

extension Datastore {
    // MARK: - Config generation

    /// A counter bumped in the same transaction as every change that affects what agents are served
    /// (queries, packs, agent options, enroll secrets). The server polls it to invalidate its caches,
    /// so a change made by another process (the `pomona` CLI) is picked up within seconds.
    public func configGeneration() async throws -> Int64 {
        try await pool.read { db in try Datastore.generation(db) }
    }

    static func generation(_ db: Database) throws -> Int64 {
        Int64(try String.fetchOne(db, sql: "SELECT value FROM app_config WHERE key = 'generation'") ?? "0") ?? 0
    }

    static func bumpGeneration(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO app_config (key, value) VALUES ('generation', '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)
            """)
    }

    static func setConfigValue(_ db: Database, key: String, value: String) throws {
        try db.execute(
            sql: "INSERT INTO app_config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    public func configValue(_ key: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM app_config WHERE key = ?", arguments: [key]) }
    }

    /// Sets a configuration value (and bumps the generation).
    public func setConfigValue(_ key: String, _ value: String) async throws {
        try await pool.write { db in
            try Datastore.setConfigValue(db, key: key, value: value)
            try Datastore.bumpGeneration(db)
        }
    }

    // MARK: - Agent options

    /// The stored agent options, or `nil` when never set (the server then uses the defaults).
    public func agentOptions() async throws -> AgentOptions? {
        guard let text = try await configValue("agent_options") else { return nil }
        let value = try JSONValue.parse(Array(text.utf8))
        return try AgentOptions(config: value)
    }

    /// Saves agent options and remembers every option name served, so a later removal reverts it.
    public func setAgentOptions(_ options: AgentOptions) async throws {
        try await pool.write { db in try Datastore.setAgentOptions(db, options) }
    }

    static func setAgentOptions(_ db: Database, _ options: AgentOptions) throws {
        try Datastore.setConfigValue(db, key: "agent_options", value: String(decoding: options.config.encoded(), as: UTF8.self))
        var served = try Datastore.servedOptionNames(db)
        served.formUnion(options.options.map(\.0))
        try Datastore.setConfigValue(db, key: "served_option_names", value: served.sorted().joined(separator: ","))
        try Datastore.bumpGeneration(db)
    }

    public func servedOptionNames() async throws -> Set<String> {
        try await pool.read { db in try Datastore.servedOptionNames(db) }
    }

    static func servedOptionNames(_ db: Database) throws -> Set<String> {
        let text = try String.fetchOne(db, sql: "SELECT value FROM app_config WHERE key = 'served_option_names'") ?? ""
        return Set(text.split(separator: ",").map(String.init))
    }

    // MARK: - Scheduled queries

    /// Inserts or updates a query by name. `builtin` tags queries Pomona installed itself.
    public func saveQuery(_ query: ScheduledQuery, builtin: String?, now: Date) async throws {
        try await pool.write { db in
            try Datastore.saveQuery(db, query, builtin: builtin, now: now)
            try Datastore.bumpGeneration(db)
        }
    }

    static func saveQuery(_ db: Database, _ q: ScheduledQuery, builtin: String?, now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO queries (name, query, description, interval, platform, min_osquery_version, shard, logging, denylist, builtin, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET query = excluded.query, description = excluded.description,
                interval = excluded.interval, platform = excluded.platform, min_osquery_version = excluded.min_osquery_version,
                shard = excluded.shard, logging = excluded.logging, denylist = excluded.denylist, updated_at = excluded.updated_at
                """,
            arguments: [
                q.name, q.sql, q.description, q.interval, q.platform, q.minOsqueryVersion, q.shard, q.logging.rawValue,
                q.denylist, builtin, now.storeValue, now.storeValue,
            ])
    }

    /// Installs queries in one transaction unless `marker` was already recorded (first-start seeding:
    /// an admin who deletes a built-in query does not get it back on the next start).
    @discardableResult
    public func seedQueriesOnce(_ queries: [ScheduledQuery], marker: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            if try String.fetchOne(db, sql: "SELECT value FROM app_config WHERE key = ?", arguments: [marker]) != nil { return false }
            for q in queries { try Datastore.saveQuery(db, q, builtin: marker, now: now) }
            try Datastore.setConfigValue(db, key: marker, value: String(now.storeValue))
            try Datastore.bumpGeneration(db)
            return true
        }
    }

    public func deleteQuery(named name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM queries WHERE name = ?", arguments: [name])
            let deleted = db.changesCount > 0
            if deleted { try Datastore.bumpGeneration(db) }
            return deleted
        }
    }

    /// Deletes every query installed under a built-in marker (e.g. removing the macOS baseline).
    public func deleteBuiltinQueries(marker: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM queries WHERE builtin = ?", arguments: [marker])
            let count = db.changesCount
            if count > 0 { try Datastore.bumpGeneration(db) }
            return count
        }
    }

    /// The global queries agents are served: those with automations enabled (Fleet's "send to
    /// the log destination", Pomona's "in the schedule"); the config compiler skips interval 0.
    /// Saved-only queries (for live queries) are listed by ``savedQueries()``.
    public func queries() async throws -> [ScheduledQuery] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM queries WHERE automations_enabled = 1 ORDER BY name").map(Datastore.scheduledQuery)
        }
    }

    static func scheduledQuery(_ row: Row) -> ScheduledQuery {
        ScheduledQuery(
            name: row["name"], sql: row["query"], description: row["description"], interval: row["interval"],
            platform: row["platform"], minOsqueryVersion: row["min_osquery_version"], shard: row["shard"],
            logging: LoggingType(rawValue: row["logging"]) ?? .snapshot, denylist: row["denylist"])
    }

    // MARK: - Packs

    /// Inserts or replaces a pack (and all its queries) by name, in one transaction.
    public func savePack(_ pack: QueryPack, now: Date) async throws {
        try await pool.write { db in
            let discovery = String(decoding: JSONValue.array(pack.discovery.map(JSONValue.string)).encoded(), as: UTF8.self)
            try db.execute(
                sql: """
                    INSERT INTO packs (name, description, platform, min_osquery_version, shard, discovery, disabled, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET description = excluded.description, platform = excluded.platform,
                    min_osquery_version = excluded.min_osquery_version, shard = excluded.shard, discovery = excluded.discovery,
                    disabled = excluded.disabled, updated_at = excluded.updated_at
                    """,
                arguments: [
                    pack.name, pack.description, pack.platform, pack.minOsqueryVersion, pack.shard, discovery, pack.disabled,
                    now.storeValue, now.storeValue,
                ])
            let packID = try Int64.fetchOne(db, sql: "SELECT id FROM packs WHERE name = ?", arguments: [pack.name])!
            try db.execute(sql: "DELETE FROM pack_queries WHERE pack_id = ?", arguments: [packID])
            for q in pack.queries {
                try db.execute(
                    sql: """
                        INSERT INTO pack_queries (pack_id, name, query, description, interval, platform, min_osquery_version, shard, logging, denylist)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        packID, q.name, q.sql, q.description, q.interval, q.platform, q.minOsqueryVersion, q.shard,
                        q.logging.rawValue, q.denylist,
                    ])
            }
            try Datastore.bumpGeneration(db)
        }
    }

    public func deletePack(named name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM packs WHERE name = ?", arguments: [name])
            let deleted = db.changesCount > 0
            if deleted { try Datastore.bumpGeneration(db) }
            return deleted
        }
    }

    public func packs() async throws -> [QueryPack] {
        try await pool.read { db in
            let queriesByPack = Dictionary(
                grouping: try Row.fetchAll(db, sql: "SELECT * FROM pack_queries ORDER BY pack_id, name"),
                by: { $0["pack_id"] as Int64 })
            return try Row.fetchAll(db, sql: "SELECT * FROM packs ORDER BY name").map { row in
                let discovery = (try? JSONValue.parse(Array((row["discovery"] as String).utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
                let targets = try Datastore.packTargets(db, packID: row["id"])
                return QueryPack(
                    name: row["name"], description: row["description"], platform: row["platform"],
                    minOsqueryVersion: row["min_osquery_version"], shard: row["shard"], discovery: discovery,
                    queries: (queriesByPack[row["id"]] ?? []).map(Datastore.scheduledQuery), disabled: row["disabled"],
                    targets: targets.isEmpty ? nil : targets)
            }
        }
    }

    // MARK: - Activities

    /// Appends to the audit log.
    public func recordActivity(actor: String, type: String, details: JSONValue, now: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO activities (created_at, actor, type, details) VALUES (?, ?, ?, ?)",
                arguments: [now.storeValue, actor, type, String(decoding: details.encoded(), as: UTF8.self)])
        }
    }
}
