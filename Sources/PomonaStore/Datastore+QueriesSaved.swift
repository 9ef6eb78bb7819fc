import Foundation
import GRDB
import PomonaCore

/// A saved query as the management API shows it (Fleet's query object).
public struct SavedQuery: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var description: String
    public var query: String
    public var interval: Int
    public var platform: String
    public var minOsqueryVersion: String?
    public var logging: LoggingType
    /// In the schedule: agents run it every `interval` seconds and log its results.
    public var automationsEnabled: Bool
    public var observerCanRun: Bool
    public var discardData: Bool
    public var authorID: Int64?
    public var authorName: String
    public var authorEmail: String
    /// The marker of a query Pomona installed itself (e.g. the macOS baseline), else `nil`.
    public var builtin: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// Whether agents run it on a schedule.
    public var isScheduled: Bool { automationsEnabled && interval > 0 }
}

/// What a create or update of a saved query sets.
public struct SavedQueryDraft: Sendable, Equatable {
    public var name: String
    public var description: String
    public var query: String
    public var interval: Int
    public var platform: String
    public var minOsqueryVersion: String?
    public var logging: LoggingType
    public var automationsEnabled: Bool
    public var observerCanRun: Bool
    public var discardData: Bool

    public init(
        name: String, description: String = "", query: String, interval: Int = 0, platform: String = "", minOsqueryVersion: String? = nil,
        logging: LoggingType = .snapshot, automationsEnabled: Bool = false, observerCanRun: Bool = false, discardData: Bool = false
    ) {
        self.name = name
        self.description = description
        self.query = query
        self.interval = interval
        self.platform = platform
        self.minOsqueryVersion = minOsqueryVersion
        self.logging = logging
        self.automationsEnabled = automationsEnabled
        self.observerCanRun = observerCanRun
        self.discardData = discardData
    }

    public init(_ q: SavedQuery) {
        self.init(
            name: q.name, description: q.description, query: q.query, interval: q.interval, platform: q.platform,
            minOsqueryVersion: q.minOsqueryVersion, logging: q.logging, automationsEnabled: q.automationsEnabled,
            observerCanRun: q.observerCanRun, discardData: q.discardData)
    }
}

extension Datastore {
    static func savedQuery(_ row: Row) -> SavedQuery {
        SavedQuery(
            id: row["id"], name: row["name"], description: row["description"], query: row["query"], interval: row["interval"],
            platform: row["platform"], minOsqueryVersion: row["min_osquery_version"],
            logging: LoggingType(rawValue: row["logging"]) ?? .snapshot, automationsEnabled: row["automations_enabled"],
            observerCanRun: row["observer_can_run"], discardData: row["discard_data"], authorID: row["author_id"],
            authorName: row["author_name"], authorEmail: row["author_email"], builtin: row["builtin"],
            createdAt: Date(storeValue: row["created_at"]), updatedAt: Date(storeValue: row["updated_at"]))
    }

    /// Every saved query (scheduled or not), by id.
    public func savedQueries() async throws -> [SavedQuery] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM queries ORDER BY id").map(Datastore.savedQuery) }
    }

    public func savedQuery(id: Int64) async throws -> SavedQuery? {
        try await pool.read { db in try Datastore.savedQuery(db, id: id) }
    }

    static func savedQuery(_ db: Database, id: Int64) throws -> SavedQuery? {
        try Row.fetchOne(db, sql: "SELECT * FROM queries WHERE id = ?", arguments: [id]).map(savedQuery)
    }

    public func savedQuery(named name: String) async throws -> SavedQuery? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM queries WHERE name = ?", arguments: [name]).map(Datastore.savedQuery) }
    }

    /// Creates a saved query (and bumps the config generation, so a scheduled one reaches agents).
    public func createSavedQuery(_ d: SavedQueryDraft, author: (id: Int64, name: String, email: String)?, now: Date) async throws -> SavedQuery {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM queries WHERE name = ?", arguments: [d.name]) == true {
                throw FleetStoreError.duplicateName(d.name)
            }
            try db.execute(
                sql: """
                    INSERT INTO queries (name, query, description, interval, platform, min_osquery_version, logging, automations_enabled,
                    observer_can_run, discard_data, author_id, author_name, author_email, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    d.name, d.query, d.description, d.interval, d.platform, d.minOsqueryVersion, d.logging.rawValue, d.automationsEnabled,
                    d.observerCanRun, d.discardData, author?.id, author?.name ?? "", author?.email ?? "", now.storeValue, now.storeValue,
                ])
            let id = db.lastInsertedRowID
            try Datastore.bumpGeneration(db)
            return try Datastore.savedQuery(db, id: id)!
        }
    }

    /// Replaces a saved query's fields (and bumps the config generation).
    public func updateSavedQuery(id: Int64, _ d: SavedQueryDraft, now: Date) async throws -> SavedQuery {
        try await pool.write { db in
            guard let existing = try Datastore.savedQuery(db, id: id) else { throw FleetStoreError.notFound("query \(id)") }
            if d.name != existing.name, try Bool.fetchOne(db, sql: "SELECT 1 FROM queries WHERE name = ?", arguments: [d.name]) == true {
                throw FleetStoreError.duplicateName(d.name)
            }
            try db.execute(
                sql: """
                    UPDATE queries SET name = ?, query = ?, description = ?, interval = ?, platform = ?, min_osquery_version = ?, logging = ?,
                    automations_enabled = ?, observer_can_run = ?, discard_data = ?, updated_at = ? WHERE id = ?
                    """,
                arguments: [
                    d.name, d.query, d.description, d.interval, d.platform, d.minOsqueryVersion, d.logging.rawValue, d.automationsEnabled,
                    d.observerCanRun, d.discardData, now.storeValue, id,
                ])
            try Datastore.bumpGeneration(db)
            return try Datastore.savedQuery(db, id: id)!
        }
    }

    /// Deletes saved queries by id. - Returns: how many existed.
    public func deleteSavedQueries(ids: [Int64]) async throws -> Int {
        try await pool.write { db in
            var count = 0
            for id in Set(ids) {
                try db.execute(sql: "DELETE FROM queries WHERE id = ?", arguments: [id])
                count += db.changesCount
            }
            if count > 0 { try Datastore.bumpGeneration(db) }
            return count
        }
    }
}
