import Foundation
import PomonaCore

/// Policies: yes/no queries asked of every host, with pass/fail counts.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol PolicyStore: Sendable {
    func policies() async throws -> [PolicyRecord]
    func policy(id: Int64) async throws -> PolicyRecord?
    func createPolicy(_ draft: PolicyDraft, author: (id: Int64, name: String, email: String)?, now: Date) async throws -> PolicyRecord
    /// Replaces a policy's fields. A changed query or platform forgets every host's answer (it
    /// answered a different question), as Fleet does.
    func updatePolicy(id: Int64, _ draft: PolicyDraft, now: Date) async throws -> PolicyRecord
    /// Deletes policies by id. - Returns: how many existed.
    func deletePolicies(ids: [Int64]) async throws -> Int
    /// Every policy with this host's answer (for `GET /hosts/{id}`).
    func policies(forHost hostID: Int64) async throws -> [HostPolicyStatus]
    /// Hosts whose latest answer to a policy is pass (`true`) or fail (`false`).
    func hostIDs(policyID: Int64, passing: Bool) async throws -> [Int64]
}

/// The defaults of ``PolicyStore``'s parameters (a protocol requirement cannot have any).
extension PolicyStore {
    public func createPolicy(_ draft: PolicyDraft, author: (id: Int64, name: String, email: String)?) async throws -> PolicyRecord {
        try await createPolicy(draft, author: author, now: Date())
    }

    public func updatePolicy(id: Int64, _ draft: PolicyDraft) async throws -> PolicyRecord {
        try await updatePolicy(id: id, draft, now: Date())
    }
}
