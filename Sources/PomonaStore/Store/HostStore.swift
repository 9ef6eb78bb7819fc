import Foundation
import PomonaCore

/// Enrolled hosts: enrollment, the check-in state loaded at start, one host and what it reported, identifiers, enrichment facts.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol HostStore: Sendable {
    /// Hostnames for result messages (hosts that no longer exist are absent).
    func hostNames(ids: some Collection<Int64>) async throws -> [Int64: HostNames]
    /// The ids of hosts that exist among `ids`.
    func existingHostIDs(_ ids: [Int64]) async throws -> Set<Int64>
    /// Every host's facts, or only those of `ids` (for the in-memory cache the pipeline reads;
    /// never on a hot path).
    func hostFacts(ids: [Int64]?) async throws -> [HostFactsRecord]
    /// Facts of the hosts enrolled or given new details since `since` (an incremental refresh:
    /// decoding every host's vitals every few seconds costs real CPU at 50,000 hosts).
    func hostFacts(changedSince since: Date) async throws -> [HostFactsRecord]
    /// The host an identifier names (see ``resolveHostID(_:identifier:)``), or nil.
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``.
    func hostID(identifier: String) async throws -> Int64?
    /// Enrolls a host: reuses the record of the same `host_identifier` (osquery re-enrolls lazily and
    /// in bursts, spec §2), else creates one. Committed before the node key is handed out.
    func enroll(_ record: EnrollmentRecord) async throws -> EnrollmentOutcome
    /// Every host's check-in state, to rebuild the in-memory registry at start.
    func loadCheckInStates() async throws -> [(HostCheckInState, NodeKeyDigest)]
    func host(id: Int64) async throws -> HostRecord?
    func hostCount() async throws -> Int
    /// Software installed on a host, by name.
    func software(hostID: Int64) async throws -> [SoftwareItem]
    func users(hostID: Int64) async throws -> [HostUser]
    /// Deletes a host and everything that hangs off it.
    func deleteHost(id: Int64) async throws
    /// Stored results of a non-detail distributed query, newest first.
    func distributedResults(name: String) async throws -> [DistributedResult]
}

/// The defaults of ``HostStore``'s parameters (a protocol requirement cannot have any).
extension HostStore {
    public func hostFacts() async throws -> [HostFactsRecord] {
        try await hostFacts(ids: nil)
    }
}
