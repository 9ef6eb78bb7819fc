import Foundation
import GRDB
import PomonaCore

/// Everything one `pomona apply` changes, applied in one transaction: all of it or none of it.
///
/// Kinds go in dependency order (queries before the packs that name them, labels and policies,
/// then enroll secrets and the global config), so a file may create a query and a pack using it.
public struct SpecBatch: Sendable {
    public var queries: [SavedQueryDraft] = []
    public var labels: [LabelSpec] = []
    public var policies: [PolicyDraft] = []
    public var packs: [PackSpec] = []
    /// The complete set of active enroll secrets wanted, or `nil` to leave them alone.
    public var enrollSecrets: [String]?
    /// Config sections merged key by key into the stored app config (under ``appConfigKey``).
    public var appConfigSections: [(String, [(String, JSONValue)])] = []
    public var appConfigKey = "admin_app_config"
    /// Replaces the agent options as a whole.
    public var agentOptions: AgentOptions?

    public init() {}

    public var isEmpty: Bool {
        queries.isEmpty && labels.isEmpty && policies.isEmpty && packs.isEmpty && enrollSecrets == nil && appConfigSections.isEmpty
            && agentOptions == nil
    }
}

/// What a ``SpecBatch`` changed that is not visible from its contents.
public struct SpecBatchOutcome: Sendable, Equatable {
    public var enrollSecretsAdded = 0
    public var enrollSecretsRevoked = 0
}

extension Datastore {
    /// Applies every kind of `batch` in one write transaction. With `dryRun` the transaction runs
    /// (so every store-level check happens: unknown hosts, unknown query names, built-ins) and is
    /// then rolled back.
    /// - Throws: ``FleetStoreError`` or a database error; nothing is applied then.
    @discardableResult
    public func applySpecs(
        _ batch: SpecBatch, author: (id: Int64, name: String, email: String)?, dryRun: Bool, now: Date
    ) async throws -> SpecBatchOutcome {
        try await pool.writeWithoutTransaction { db in
            var outcome = SpecBatchOutcome()
            try db.inTransaction(.immediate) {
                try Datastore.applyQuerySpecs(db, batch.queries, author: author, now: now)
                try Datastore.applyLabelSpecs(db, batch.labels, now: now)
                try Datastore.applyPolicySpecs(db, batch.policies, author: author, now: now)
                try Datastore.applyPackSpecs(db, batch.packs, now: now)
                if let wanted = batch.enrollSecrets {
                    (outcome.enrollSecretsAdded, outcome.enrollSecretsRevoked) = try Datastore.setEnrollSecrets(db, wanted, now: now)
                }
                if !batch.appConfigSections.isEmpty {
                    try Datastore.mergeAppConfig(db, key: batch.appConfigKey, sections: batch.appConfigSections)
                    try Datastore.bumpGeneration(db)
                }
                if let options = batch.agentOptions { try Datastore.setAgentOptions(db, options) }
                return dryRun ? .rollback : .commit
            }
            return outcome
        }
    }

    /// Makes `wanted` the set of active enroll secrets: new ones are added (or un-revoked), the
    /// others revoked. Returns (added, revoked).
    static func setEnrollSecrets(_ db: Database, _ wanted: [String], now: Date) throws -> (Int, Int) {
        let active = Set(try String.fetchAll(db, sql: "SELECT secret FROM enroll_secrets WHERE revoked_at IS NULL"))
        var added = 0
        for secret in wanted where !active.contains(secret) {
            try db.execute(
                sql: "INSERT INTO enroll_secrets (secret, name, created_at) VALUES (?, 'api', ?) ON CONFLICT(secret) DO UPDATE SET revoked_at = NULL",
                arguments: [secret, now.storeValue])
            added += 1
        }
        var revoked = 0
        for secret in active where !wanted.contains(secret) {
            try db.execute(sql: "UPDATE enroll_secrets SET revoked_at = ? WHERE secret = ?", arguments: [now.storeValue, secret])
            revoked += 1
        }
        if added + revoked > 0 { try Datastore.bumpGeneration(db) }
        return (added, revoked)
    }

    /// Merges config sections into the JSON object stored under `key`: a section's keys replace
    /// the stored ones whole; other keys and sections stay.
    static func mergeAppConfig(_ db: Database, key: String, sections: [(String, [(String, JSONValue)])]) throws {
        let text = try String.fetchOne(db, sql: "SELECT value FROM app_config WHERE key = ?", arguments: [key])
        var stored = text.flatMap { try? JSONValue.parse(Array($0.utf8)) }?.objectMembers ?? []
        for (section, object) in sections {
            var merged = stored.first(where: { $0.0 == section })?.1.objectMembers ?? []
            for (name, value) in object {
                if let index = merged.firstIndex(where: { $0.0 == name }) { merged[index].1 = value } else { merged.append((name, value)) }
            }
            if let index = stored.firstIndex(where: { $0.0 == section }) { stored[index].1 = .object(merged) } else { stored.append((section, .object(merged))) }
        }
        try Datastore.setConfigValue(db, key: key, value: String(decoding: JSONValue.object(stored).encoded(), as: UTF8.self))
    }
}
