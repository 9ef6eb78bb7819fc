import Foundation
import GRDB

/// A host field an admin may name a host by, in the order they are tried (``Datastore/resolveHostID(_:identifier:)``).
public enum HostIdentifierField: String, Sendable, CaseIterable {
    case uuid
    case osqueryHostID = "osquery_host_id"
    case hardwareSerial = "hardware_serial"
    /// Last, and alone: a hostname is whatever the agent says, and nothing stops one host from
    /// taking another host's UUID as its hostname.
    case hostname

    /// The identifiers meant to name one machine; tried together, before the hostname.
    public static let unique: [HostIdentifierField] = [.uuid, .osqueryHostID, .hardwareSerial]

    /// The words an error message uses for it.
    public var label: String {
        switch self {
        case .uuid: "uuid"
        case .osqueryHostID: "osquery host id"
        case .hardwareSerial: "hardware serial"
        case .hostname: "hostname"
        }
    }
}

extension HostIdentifierField {
    /// The one resolution rule, for the store and for in-memory indexes alike (the pipeline's
    /// host-facts cache): the unique fields together, then the hostname; exactly one host in a
    /// tier is the answer, several are refused.
    /// - Parameters:
    ///   - hosts: the ids of hosts whose `field` equals `identifier` (a few are enough).
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``, or what `hosts` throws.
    public static func resolve(_ identifier: String, hosts: (HostIdentifierField) throws -> [Int64]) throws -> Int64? {
        guard !identifier.isEmpty else { return nil }
        for tier in [unique, [.hostname]] {
            var matches: [(field: HostIdentifierField, id: Int64)] = []
            for field in tier { matches += try hosts(field).map { (field, $0) } }
            let ids = Set(matches.map(\.id))
            if ids.count == 1 { return ids.first }
            if ids.count > 1 {
                var fields: [String] = []
                for match in matches where !fields.contains(match.field.label) { fields.append(match.field.label) }
                throw FleetStoreError.ambiguousHost(identifier: identifier, fields: fields, hostCount: ids.count)
            }
        }
        return nil
    }
}

extension Datastore {
    /// The host an admin-supplied identifier names, for every route that takes one (`GET
    /// /hosts/identifier/{x}`, live queries by identifier, manual labels and label specs).
    ///
    /// First the unique identifiers (uuid, osquery host id, hardware serial): if exactly one host
    /// has the identifier in any of them, that host. Only if none does, the hostname.
    ///
    /// Why: with hostname first, a host that enrolled with hostname = a victim's UUID was sent the
    /// query meant for the victim (and could answer it with forged rows). The "unique" identifiers
    /// are reported by agents too (osquery's host identifier is the hostname unless configured
    /// otherwise), so two hosts can share one, by a cloned disk or on purpose: an identifier that
    /// names several hosts, in the same field or in different ones, is refused, naming it and the
    /// fields, rather than resolved to either. An empty identifier names no host (empty is the
    /// stored default of uuid and serial).
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``.
    static func resolveHostID(_ db: Database, identifier: String) throws -> Int64? {
        try HostIdentifierField.resolve(identifier) { field in
            // A few rows are enough to tell "one host" from "several" (and say how many, roughly).
            try Int64.fetchAll(db, sql: "SELECT id FROM hosts WHERE \(field.rawValue) = ? ORDER BY id LIMIT 10", arguments: [identifier])
        }
    }

    /// The host an identifier names (see ``resolveHostID(_:identifier:)``), or nil.
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``.
    public func hostID(identifier: String) async throws -> Int64? {
        try await pool.read { db in try Datastore.resolveHostID(db, identifier: identifier) }
    }
}
