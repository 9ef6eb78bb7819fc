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
        guard !identifier.isEmpty else { return nil }
        for tier in [HostIdentifierField.unique, [.hostname]] {
            var matches: [(field: HostIdentifierField, id: Int64)] = []
            for field in tier {
                // A few rows are enough to tell "one host" from "several" (and say how many, roughly).
                let ids = try Int64.fetchAll(
                    db, sql: "SELECT id FROM hosts WHERE \(field.rawValue) = ? ORDER BY id LIMIT 10", arguments: [identifier])
                matches += ids.map { (field, $0) }
            }
            let hosts = Set(matches.map(\.id))
            if hosts.count == 1 { return hosts.first }
            if hosts.count > 1 {
                var fields: [String] = []
                for match in matches where !fields.contains(match.field.label) { fields.append(match.field.label) }
                throw FleetStoreError.ambiguousHost(identifier: identifier, fields: fields, hostCount: hosts.count)
            }
        }
        return nil
    }

    /// The host an identifier names (see ``resolveHostID(_:identifier:)``), or nil.
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``.
    public func hostID(identifier: String) throws -> Int64? {
        try pool.read { db in try Datastore.resolveHostID(db, identifier: identifier) }
    }
}
