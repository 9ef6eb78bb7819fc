import Foundation
import GRDB
import PomonaCore

/// Filters of the admin host list. Every value reaches SQL as a bound parameter; the order is a
/// ``HostSortKey``, never text from the request.
public struct HostListFilter: Sendable, Equatable {
    /// Free text: substring of hostname, computer name, hardware serial or UUID; for text that looks
    /// like an address fragment, also a prefix of the remote or primary IP.
    public var query: String?
    /// Exact stored platform values (`ubuntu`, `darwin`, …); empty means any.
    public var platforms: [String] = []
    /// Only hosts enrolled after this moment (Fleet's `new` status).
    public var createdAfter: Date?
    /// Only these host ids (the online/offline/missing status, decided from the in-memory registry).
    public var ids: [Int64]?
    /// Not these host ids: the same status filter, given as the smaller complement when most
    /// hosts match (50,000 online hosts are cheaper to find as "not the 200 offline ones").
    public var excludedIDs: [Int64]?
    /// Only members of this label (`label_membership(label_id, host_id)`, owned by the labels area).
    public var labelID: Int64?

    public init(query: String? = nil, platforms: [String] = [], createdAfter: Date? = nil, ids: [Int64]? = nil, labelID: Int64? = nil) {
        self.query = query
        self.platforms = platforms
        self.createdAfter = createdAfter
        self.ids = ids
        self.labelID = labelID
    }

    public var isEmpty: Bool {
        query == nil && platforms.isEmpty && createdAfter == nil && ids == nil && excludedIDs == nil && labelID == nil
    }
}

extension Datastore {
    /// One page of hosts, ordered by `page.sort` with the id as tie-breaker (stable pages).
    public func listHosts(_ filter: HostListFilter, page: ListPage<HostSortKey>) async throws -> [HostRecord] {
        let (whereSQL, arguments) = try hostWhere(filter)
        let column = page.sort.column
        let direction = page.direction
        var bound = arguments
        bound += [page.limit, page.offset]
        let args = bound
        // Deferred join: page through ids only (the order indexes cover them), then read the few
        // full rows, so a deep page does not load every row it skips.
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT h.* FROM (SELECT id FROM hosts \(whereSQL) ORDER BY \(column) \(direction), id \(direction) LIMIT ? OFFSET ?) AS page
                    JOIN hosts h ON h.id = page.id ORDER BY h.\(column) \(direction), h.id \(direction)
                    """,
                arguments: args
            ).map(Datastore.hostRecord)
        }
    }

    public func countHosts(_ filter: HostListFilter) async throws -> Int {
        let (whereSQL, arguments) = try hostWhere(filter)
        return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hosts \(whereSQL)", arguments: arguments) ?? 0 }
    }

    /// Every matching host id (bulk delete by filter; status filtering).
    public func hostIDs(_ filter: HostListFilter) async throws -> [Int64] {
        let (whereSQL, arguments) = try hostWhere(filter)
        return try await pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM hosts \(whereSQL)", arguments: arguments) }
    }

    /// Host counts per stored platform value.
    public func hostCountsByPlatform(_ filter: HostListFilter) async throws -> [(platform: String, count: Int)] {
        let (whereSQL, arguments) = try hostWhere(filter)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT platform, COUNT(*) AS n FROM hosts \(whereSQL) GROUP BY platform ORDER BY platform", arguments: arguments)
                .map { (platform: $0["platform"], count: $0["n"]) }
        }
    }

    /// The distinct platform values stored (to expand a family filter such as `linux`).
    public func distinctHostPlatforms() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT platform FROM hosts ORDER BY platform") }
    }

    static func likeEscaped(_ text: String) -> String {
        var out = ""
        for ch in text {
            if ch == "%" || ch == "_" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// Text that could be (part of) an IPv4 or IPv6 address.
    static func looksLikeAddress(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } && text.contains(where: \.isNumber)
    }

    func hostWhere(_ filter: HostListFilter) throws -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let query = filter.query {
            let contains = "%" + Datastore.likeEscaped(query) + "%"
            var parts = [
                "hostname LIKE ? ESCAPE '\\'", "computer_name LIKE ? ESCAPE '\\'", "hardware_serial LIKE ? ESCAPE '\\'",
                "uuid LIKE ? ESCAPE '\\'",
            ]
            arguments += [contains, contains, contains, contains]
            if Datastore.looksLikeAddress(query) {
                let prefix = Datastore.likeEscaped(query) + "%"
                // The primary IP lives in the vitals JSON; a LIKE on its encoded form avoids parsing every row.
                parts += ["remote_ip LIKE ? ESCAPE '\\'", "vitals LIKE ? ESCAPE '\\'"]
                arguments += [prefix, "%\"primaryIP\":\"" + prefix]
            }
            clauses.append("(" + parts.joined(separator: " OR ") + ")")
        }
        if !filter.platforms.isEmpty {
            clauses.append("platform IN (" + Array(repeating: "?", count: filter.platforms.count).joined(separator: ",") + ")")
            for p in filter.platforms { arguments += [p] }
        }
        if let createdAfter = filter.createdAfter {
            clauses.append("created_at > ?")
            arguments += [createdAfter.storeValue]
        }
        if let ids = filter.ids {
            // One bound JSON array rather than thousands of placeholders (SQLite caps variables).
            clauses.append("id IN (SELECT value FROM json_each(?))")
            arguments += ["[" + ids.map(String.init).joined(separator: ",") + "]"]
        }
        if let excluded = filter.excludedIDs, !excluded.isEmpty {
            clauses.append("id NOT IN (SELECT value FROM json_each(?))")
            arguments += ["[" + excluded.map(String.init).joined(separator: ",") + "]"]
        }
        if let labelID = filter.labelID {
            clauses.append("id IN (SELECT host_id FROM label_membership WHERE label_id = ?)")
            arguments += [labelID]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    // MARK: - Lookups and changes

    /// A host by its node key (looked up by digest: a node key is a secret no other host has), else
    /// by ``resolveHostID(_:identifier:)``, the order every identifier route uses.
    /// - Throws: ``FleetStoreError/ambiguousHost(identifier:fields:hostCount:)``.
    public func host(identifier: String, nodeKeyDigest: String?) async throws -> HostRecord? {
        try await pool.read { db in
            if let digest = nodeKeyDigest,
                let row = try Row.fetchOne(db, sql: "SELECT * FROM hosts WHERE node_key_digest = ?", arguments: [digest])
            {
                return Datastore.hostRecord(row)
            }
            guard let id = try Datastore.resolveHostID(db, identifier: identifier) else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM hosts WHERE id = ?", arguments: [id]).map(Datastore.hostRecord)
        }
    }

    /// The node-key digests of hosts (to forget them in the registry after a delete).
    public func deleteHosts(ids: [Int64]) async throws -> [Int64] {
        try await pool.write { db in
            var deleted: [Int64] = []
            let statement = try db.cachedStatement(sql: "DELETE FROM hosts WHERE id = ?")
            for id in ids {
                try statement.execute(arguments: [id])
                if db.changesCount > 0 { deleted.append(id) }
            }
            return deleted
        }
    }

    /// Persists a refetch request so it survives a restart (the registry serves it at once).
    public func markRefetchRequested(hostID: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE hosts SET refetch_requested = 1 WHERE id = ?", arguments: [hostID])
            return db.changesCount > 0
        }
    }

    /// Stored one-shot distributed results of a host (live queries and other non-detail work), newest first.
    public func distributedResults(hostID: Int64, limit: Int) async throws -> [DistributedResult] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM distributed_results WHERE host_id = ? ORDER BY received_at DESC LIMIT ?",
                arguments: [hostID, limit]
            ).map {
                DistributedResult(
                    hostID: $0["host_id"], name: $0["name"], status: $0["status"], message: $0["message"], rowsJSON: $0["rows"],
                    rowCount: $0["row_count"], statsJSON: $0["stats"], receivedAt: Date(storeValue: $0["received_at"]))
            }
        }
    }
}
