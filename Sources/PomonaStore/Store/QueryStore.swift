import Foundation
import PomonaCore

/// Scheduled queries and packs (what agents run), saved queries, agent options and the config generation.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol QueryStore: Sendable {
    /// A counter bumped in the same transaction as every change that affects what agents are served
    /// (queries, packs, agent options, enroll secrets). The server polls it to invalidate its caches,
    /// so a change made by another process (the `pomona` CLI) is picked up within seconds.
    func configGeneration() async throws -> Int64
    func configValue(_ key: String) async throws -> String?
    /// Sets a configuration value (and bumps the generation).
    func setConfigValue(_ key: String, _ value: String) async throws
    /// The stored agent options, or `nil` when never set (the server then uses the defaults).
    func agentOptions() async throws -> AgentOptions?
    /// Saves agent options and remembers every option name served, so a later removal reverts it.
    func setAgentOptions(_ options: AgentOptions) async throws
    func servedOptionNames() async throws -> Set<String>
    /// Inserts or updates a query by name. `builtin` tags queries Pomona installed itself.
    func saveQuery(_ query: ScheduledQuery, builtin: String?, now: Date) async throws
    /// Installs queries in one transaction unless `marker` was already recorded (first-start seeding:
    /// an admin who deletes a built-in query does not get it back on the next start).
    @discardableResult
    func seedQueriesOnce(_ queries: [ScheduledQuery], marker: String, now: Date) async throws -> Bool
    func deleteQuery(named name: String) async throws -> Bool
    /// Deletes every query installed under a built-in marker (e.g. removing the macOS baseline).
    func deleteBuiltinQueries(marker: String) async throws -> Int
    /// The global queries agents are served: those with automations enabled (Fleet's "send to
    /// the log destination", Pomona's "in the schedule"); the config compiler skips interval 0.
    /// Saved-only queries (for live queries) are listed by ``savedQueries()``.
    func queries() async throws -> [ScheduledQuery]
    /// Inserts or replaces a pack (and all its queries) by name, in one transaction.
    func savePack(_ pack: QueryPack, now: Date) async throws
    func deletePack(named name: String) async throws -> Bool
    func packs() async throws -> [QueryPack]
    func packRecords() async throws -> [PackRecord]
    func packRecord(id: Int64) async throws -> PackRecord?
    func createPack(name: String, description: String, platform: String, disabled: Bool, targets: PackTargets, now: Date) async throws -> PackRecord
    /// Changes the given fields; `targets` replaces both label and host targets when given.
    func updatePack(id: Int64, name: String?, description: String?, platform: String?, disabled: Bool?, targets: PackTargets?, now: Date) async throws -> PackRecord
    func deletePack(id: Int64) async throws -> Bool
    /// A pack's queries with stable ids (created on first sight: packs imported from files have none yet).
    func packScheduledQueries(packID: Int64) async throws -> [PackScheduledQuery]
    /// Adds a saved query to a pack (its SQL is copied: the pack keeps running it as scheduled).
    func schedulePackQuery(packID: Int64, queryID: Int64, interval: Int, logging: LoggingType, platform: String, version: String?, shard: Int?) async throws -> PackScheduledQuery
    func updatePackScheduledQuery(id: Int64, _ change: PackScheduleChange) async throws -> PackScheduledQuery
    func deletePackScheduledQuery(id: Int64) async throws -> Bool
    /// Every saved query (scheduled or not), by id.
    func savedQueries() async throws -> [SavedQuery]
    func savedQuery(id: Int64) async throws -> SavedQuery?
    func savedQuery(named name: String) async throws -> SavedQuery?
    /// Creates a saved query (and bumps the config generation, so a scheduled one reaches agents).
    func createSavedQuery(_ d: SavedQueryDraft, author: (id: Int64, name: String, email: String)?, now: Date) async throws -> SavedQuery
    /// Replaces a saved query's fields (and bumps the config generation).
    func updateSavedQuery(id: Int64, _ d: SavedQueryDraft, now: Date) async throws -> SavedQuery
    /// Deletes saved queries by id. - Returns: how many existed.
    func deleteSavedQueries(ids: [Int64]) async throws -> Int
}

/// The defaults of ``QueryStore``'s parameters (a protocol requirement cannot have any).
extension QueryStore {
    public func saveQuery(_ query: ScheduledQuery, now: Date) async throws {
        try await saveQuery(query, builtin: nil, now: now)
    }

    public func saveQuery(_ query: ScheduledQuery, builtin: String?) async throws {
        try await saveQuery(query, builtin: builtin, now: Date())
    }

    public func saveQuery(_ query: ScheduledQuery) async throws {
        try await saveQuery(query, builtin: nil, now: Date())
    }

    @discardableResult
    public func seedQueriesOnce(_ queries: [ScheduledQuery], marker: String) async throws -> Bool {
        try await seedQueriesOnce(queries, marker: marker, now: Date())
    }

    public func savePack(_ pack: QueryPack) async throws {
        try await savePack(pack, now: Date())
    }

    public func createPack(name: String, description: String, platform: String, disabled: Bool, now: Date) async throws -> PackRecord {
        try await createPack(name: name, description: description, platform: platform, disabled: disabled, targets: PackTargets(), now: now)
    }

    public func createPack(name: String, description: String, platform: String, disabled: Bool, targets: PackTargets) async throws -> PackRecord {
        try await createPack(name: name, description: description, platform: platform, disabled: disabled, targets: targets, now: Date())
    }

    public func createPack(name: String, description: String, platform: String, disabled: Bool) async throws -> PackRecord {
        try await createPack(name: name, description: description, platform: platform, disabled: disabled, targets: PackTargets(), now: Date())
    }

    public func updatePack(id: Int64, name: String?, description: String?, platform: String?, disabled: Bool?, now: Date) async throws -> PackRecord {
        try await updatePack(id: id, name: name, description: description, platform: platform, disabled: disabled, targets: nil, now: now)
    }

    public func updatePack(id: Int64, name: String?, description: String?, platform: String?, disabled: Bool?, targets: PackTargets?) async throws -> PackRecord {
        try await updatePack(id: id, name: name, description: description, platform: platform, disabled: disabled, targets: targets, now: Date())
    }

    public func updatePack(id: Int64, name: String?, description: String?, platform: String?, disabled: Bool?) async throws -> PackRecord {
        try await updatePack(id: id, name: name, description: description, platform: platform, disabled: disabled, targets: nil, now: Date())
    }

    public func createSavedQuery(_ d: SavedQueryDraft, author: (id: Int64, name: String, email: String)?) async throws -> SavedQuery {
        try await createSavedQuery(d, author: author, now: Date())
    }

    public func updateSavedQuery(id: Int64, _ d: SavedQueryDraft) async throws -> SavedQuery {
        try await updateSavedQuery(id: id, d, now: Date())
    }
}
