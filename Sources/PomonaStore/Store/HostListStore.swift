import Foundation
import PomonaCore

/// The admin host list and software inventory: filtered, sorted pages and counts, bulk changes.
///
/// Part of ``FleetStore``; the SQLite ``Datastore`` implements it. Every method is `async`: an
/// implementation must not block the caller's thread (the Swift concurrency pool has two).
public protocol HostListStore: Sendable {
    /// One page of hosts, ordered by `page.sort` with the id as tie-breaker (stable pages).
    func listHosts(_ filter: HostListFilter, page: ListPage<HostSortKey>) async throws -> [HostRecord]
    func countHosts(_ filter: HostListFilter) async throws -> Int
    /// Every matching host id (bulk delete by filter; status filtering).
    func hostIDs(_ filter: HostListFilter) async throws -> [Int64]
    /// Host counts per stored platform value.
    func hostCountsByPlatform(_ filter: HostListFilter) async throws -> [(platform: String, count: Int)]
    /// The distinct platform values stored (to expand a family filter such as `linux`).
    func distinctHostPlatforms() async throws -> [String]
    /// A host by its node key (looked up by digest: a node key is a secret no other host has), else
    /// by ``resolveHostID(_:identifier:)``, the order every identifier route uses.
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``.
    func host(identifier: String, nodeKeyDigest: String?) async throws -> HostRecord?
    /// The node-key digests of hosts (to forget them in the registry after a delete).
    func deleteHosts(ids: [Int64]) async throws -> [Int64]
    /// Persists a refetch request so it survives a restart (the registry serves it at once).
    func markRefetchRequested(hostID: Int64) async throws -> Bool
    /// Stored one-shot distributed results of a host (live queries and other non-detail work), newest first.
    func distributedResults(hostID: Int64, limit: Int) async throws -> [DistributedResult]
    /// A page of the software inventory with host counts, optionally only what one host has or
    /// whose name/version contains `query`.
    func softwareInventory(query: String?, hostID: Int64?, page: ListPage<SoftwareSortKey>) async throws -> [SoftwareSummary]
    func softwareCount(query: String?, hostID: Int64?) async throws -> Int
    func softwareSummary(id: Int64) async throws -> SoftwareSummary?
}

/// The defaults of ``HostListStore``'s parameters (a protocol requirement cannot have any).
extension HostListStore {
    public func hostIDs() async throws -> [Int64] {
        try await hostIDs(HostListFilter())
    }

    public func hostCountsByPlatform() async throws -> [(platform: String, count: Int)] {
        try await hostCountsByPlatform(HostListFilter())
    }

    public func distributedResults(hostID: Int64) async throws -> [DistributedResult] {
        try await distributedResults(hostID: hostID, limit: 100)
    }

    public func softwareInventory(query: String?, page: ListPage<SoftwareSortKey>) async throws -> [SoftwareSummary] {
        try await softwareInventory(query: query, hostID: nil, page: page)
    }

    public func softwareCount(query: String?) async throws -> Int {
        try await softwareCount(query: query, hostID: nil)
    }
}
