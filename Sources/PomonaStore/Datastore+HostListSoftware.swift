import Foundation
import GRDB

/// A software title+version with the number of hosts that have it installed.
public struct SoftwareSummary: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var version: String
    public var source: String
    public var bundleIdentifier: String
    public var hostsCount: Int
}

extension Datastore {
    /// A page of the software inventory with host counts, optionally only what one host has or
    /// whose name/version contains `query`.
    public func softwareInventory(query: String?, hostID: Int64?, page: ListPage<SoftwareSortKey>) async throws -> [SoftwareSummary] {
        let (whereSQL, arguments) = softwareWhere(query: query, hostID: hostID)
        let expression = page.sort.expression
        let direction = page.direction
        var bound = arguments
        bound += [page.limit, page.offset]
        let args = bound
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.*, (SELECT COUNT(*) FROM host_software hs WHERE hs.software_id = s.id) AS hosts_count
                    FROM software s \(whereSQL) ORDER BY \(expression) \(direction), s.id \(direction) LIMIT ? OFFSET ?
                    """, arguments: args
            ).map(Datastore.softwareSummary)
        }
    }

    public func softwareCount(query: String?, hostID: Int64?) async throws -> Int {
        let (whereSQL, arguments) = softwareWhere(query: query, hostID: hostID)
        return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM software s \(whereSQL)", arguments: arguments) ?? 0 }
    }

    public func softwareSummary(id: Int64) async throws -> SoftwareSummary? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT s.*, (SELECT COUNT(*) FROM host_software hs WHERE hs.software_id = s.id) AS hosts_count
                    FROM software s WHERE s.id = ?
                    """, arguments: [id]
            ).map(Datastore.softwareSummary)
        }
    }

    private func softwareWhere(query: String?, hostID: Int64?) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let query {
            let contains = "%" + Datastore.likeEscaped(query) + "%"
            clauses.append("(s.name LIKE ? ESCAPE '\\' OR s.version LIKE ? ESCAPE '\\')")
            arguments += [contains, contains]
        }
        if let hostID {
            clauses.append("s.id IN (SELECT software_id FROM host_software WHERE host_id = ?)")
            arguments += [hostID]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    static func softwareSummary(_ row: Row) -> SoftwareSummary {
        SoftwareSummary(
            id: row["id"], name: row["name"], version: row["version"], source: row["source"],
            bundleIdentifier: row["bundle_identifier"], hostsCount: row["hosts_count"])
    }

    // MARK: - Carves (admin reads)

    public func carve(id: Int64) async throws -> CarveSession? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM carves WHERE id = ?", arguments: [id]).map(Datastore.carveSession) }
    }

    /// One stored block of a carve, or `nil` when it has not arrived.
    public func carveBlock(carveID: Int64, blockID: Int) async throws -> Data? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT data FROM carve_blocks WHERE carve_id = ? AND block_id = ?", arguments: [carveID, blockID])
        }
    }
}
