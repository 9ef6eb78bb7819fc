import Foundation
import PomonaCore

/// Declarative specs (labels, queries, policies, packs): applied as a batch, read back.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol SpecStore: Sendable {
    /// Creates or updates labels by name. Dynamic labels whose query or platform changed get the
    /// new one (membership is re-evaluated); built-in labels cannot be changed.
    /// - Throws: ``FleetStoreError`` (nothing is applied then).
    func applyLabelSpecs(_ specs: [LabelSpec], now: Date) async throws
    /// Label specs for `GET /spec/labels` (manual labels list their members by hostname).
    func labelSpecs() async throws -> [(spec: LabelSpec, builtin: Bool)]
    /// Creates or updates saved queries by name, in one transaction (and bumps the config generation).
    func applyQuerySpecs(_ drafts: [SavedQueryDraft], author: (id: Int64, name: String, email: String)?, now: Date) async throws
    /// Creates or updates policies by name, in one transaction. A changed query or platform
    /// forgets the hosts' old answers.
    func applyPolicySpecs(_ drafts: [PolicyDraft], author: (id: Int64, name: String, email: String)?, now: Date) async throws
    /// Creates or replaces packs by name, their queries taken from saved queries by name, in one
    /// transaction. An unknown query name fails the whole apply.
    func applyPackSpecs(_ packs: [PackSpec], now: Date) async throws
    /// Pack specs for `GET /spec/packs`: each query names its saved query (or itself, for packs
    /// imported from osquery pack files).
    func packSpecs() async throws -> [PackSpec]
    /// Applies every kind of `batch` in one write transaction. With `dryRun` the transaction runs
    /// (so every store-level check happens: unknown hosts, unknown query names, built-ins) and is
    /// then rolled back.
    /// - Throws: ``FleetStoreError`` or a database error; nothing is applied then.
    @discardableResult
    func applySpecs(_ batch: SpecBatch, author: (id: Int64, name: String, email: String)?, dryRun: Bool, now: Date) async throws -> SpecBatchOutcome
}

/// The defaults of ``SpecStore``'s parameters (a protocol requirement cannot have any).
extension SpecStore {
    public func applyLabelSpecs(_ specs: [LabelSpec]) async throws {
        try await applyLabelSpecs(specs, now: Date())
    }

    public func applyQuerySpecs(_ drafts: [SavedQueryDraft], author: (id: Int64, name: String, email: String)?) async throws {
        try await applyQuerySpecs(drafts, author: author, now: Date())
    }

    public func applyPolicySpecs(_ drafts: [PolicyDraft], author: (id: Int64, name: String, email: String)?) async throws {
        try await applyPolicySpecs(drafts, author: author, now: Date())
    }

    public func applyPackSpecs(_ packs: [PackSpec]) async throws {
        try await applyPackSpecs(packs, now: Date())
    }

    @discardableResult
    public func applySpecs(_ batch: SpecBatch, author: (id: Int64, name: String, email: String)?, now: Date) async throws -> SpecBatchOutcome {
        try await applySpecs(batch, author: author, dryRun: false, now: now)
    }

    @discardableResult
    public func applySpecs(_ batch: SpecBatch, author: (id: Int64, name: String, email: String)?, dryRun: Bool) async throws -> SpecBatchOutcome {
        try await applySpecs(batch, author: author, dryRun: dryRun, now: Date())
    }

    @discardableResult
    public func applySpecs(_ batch: SpecBatch, author: (id: Int64, name: String, email: String)?) async throws -> SpecBatchOutcome {
        try await applySpecs(batch, author: author, dryRun: false, now: Date())
    }
}
