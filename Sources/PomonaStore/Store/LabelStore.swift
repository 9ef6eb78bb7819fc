import Foundation
import PomonaCore

/// Labels and their members (dynamic labels are evaluated on hosts; manual ones are host lists).
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol LabelStore: Sendable {
    func labels() async throws -> [LabelRecord]
    func label(id: Int64) async throws -> LabelRecord?
    func label(named name: String) async throws -> LabelRecord?
    /// Creates a label. Manual members that are not hosts are ignored.
    func createLabel(_ draft: LabelDraft, authorID: Int64?, now: Date) async throws -> LabelRecord
    /// Updates name, description and (manual labels) members. A dynamic label's query and
    /// platform cannot change (Fleet's rule: delete and re-create), so they are left as they are.
    func updateLabel(id: Int64, name: String?, description: String?, hostIDs: [Int64]?, now: Date) async throws -> LabelRecord
    /// Deletes a regular label (built-in ones are refused).
    /// - Returns: `false` when there is no such label.
    func deleteLabel(id: Int64) async throws -> Bool
    /// Members of a label, by host id (for `GET /hosts?label_id=` and live-query targets).
    func hostIDs(inLabel labelID: Int64) async throws -> [Int64]
    /// Hosts in any of the labels.
    func hostIDs(inLabels labelIDs: [Int64]) async throws -> Set<Int64>
    /// The labels a host is a member of.
    func labels(forHost hostID: Int64) async throws -> [LabelRecord]
    /// The dynamic-label and policy queries for ``HostRegistry/setEvaluationQueries(_:)``.
    func hostEvaluationQueries() async throws -> HostEvaluationQueries
    /// When each host last answered label and policy queries.
    func hostEvaluationTimes() async throws -> [Int64: (labels: Date?, policies: Date?)]
    /// Which of `labelIDs` each host is a member of (hosts in none are absent).
    func labelMemberships(labelIDs: Set<Int64>) async throws -> [Int64: Set<Int64>]
}

/// The defaults of ``LabelStore``'s parameters (a protocol requirement cannot have any).
extension LabelStore {
    public func createLabel(_ draft: LabelDraft, now: Date) async throws -> LabelRecord {
        try await createLabel(draft, authorID: nil, now: now)
    }

    public func createLabel(_ draft: LabelDraft, authorID: Int64?) async throws -> LabelRecord {
        try await createLabel(draft, authorID: authorID, now: Date())
    }

    public func createLabel(_ draft: LabelDraft) async throws -> LabelRecord {
        try await createLabel(draft, authorID: nil, now: Date())
    }

    public func updateLabel(id: Int64, name: String?, description: String?, hostIDs: [Int64]?) async throws -> LabelRecord {
        try await updateLabel(id: id, name: name, description: description, hostIDs: hostIDs, now: Date())
    }
}
