import Foundation
import GRDB
import PomonaCore

/// What the pipeline's enrich stage adds to events, for every host, in one read.
public struct HostFactsRecord: Sendable, Equatable {
    public var id: Int64
    public var osqueryHostID: String
    public var hostname: String
    public var uuid: String
    public var hardwareSerial: String
    public var platform: String
    public var osVersion: String
    public var primaryIP: String
    public var primaryMAC: String
    public var loggedInUser: String
    public var labels: [String]

    public init(
        id: Int64, osqueryHostID: String, hostname: String, uuid: String, hardwareSerial: String, platform: String, osVersion: String,
        primaryIP: String, primaryMAC: String, loggedInUser: String, labels: [String]
    ) {
        self.id = id
        self.osqueryHostID = osqueryHostID
        self.hostname = hostname
        self.uuid = uuid
        self.hardwareSerial = hardwareSerial
        self.platform = platform
        self.osVersion = osVersion
        self.primaryIP = primaryIP
        self.primaryMAC = primaryMAC
        self.loggedInUser = loggedInUser
        self.labels = labels
    }
}

extension Datastore {
    /// Every host's facts, or only those of `ids` (for the in-memory cache the pipeline reads;
    /// never on a hot path).
    public func hostFacts(ids: [Int64]?) async throws -> [HostFactsRecord] {
        let filter = ids.map { ids in ids.isEmpty ? " WHERE 0" : " WHERE id IN (\(ids.map(String.init).joined(separator: ",")))" } ?? ""
        let membershipFilter = ids.map { ids in ids.isEmpty ? " WHERE 0" : " WHERE m.host_id IN (\(ids.map(String.init).joined(separator: ",")))" } ?? ""
        return try await hostFacts(filter: filter, membershipFilter: membershipFilter)
    }

    /// Facts of the hosts enrolled or given new details since `since` (an incremental refresh:
    /// decoding every host's vitals every few seconds costs real CPU at 50,000 hosts).
    public func hostFacts(changedSince since: Date) async throws -> [HostFactsRecord] {
        let changed = "detail_updated_at > \(since.storeValue) OR last_enrolled_at > \(since.storeValue)"
        return try await hostFacts(filter: " WHERE \(changed)", membershipFilter: " WHERE m.host_id IN (SELECT id FROM hosts WHERE \(changed))")
    }

    private func hostFacts(filter: String, membershipFilter: String) async throws -> [HostFactsRecord] {
        try await pool.read { db in
            var labels: [Int64: [String]] = [:]
            let hasLabels = try db.tableExists("label_membership") && db.tableExists("labels")
            if hasLabels {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT m.host_id AS host_id, l.name AS name FROM label_membership m JOIN labels l ON l.id = m.label_id\(membershipFilter)
                    ORDER BY l.name
                    """)
                for row in rows { labels[row["host_id"], default: []].append(row["name"]) }
            }
            return try Row.fetchAll(db, sql: "SELECT id, osquery_host_id, uuid, hardware_serial, hostname, platform, vitals FROM hosts\(filter)").map { row in
                let id: Int64 = row["id"]
                let vitals = EnrichmentVitals(json: row["vitals"])
                return HostFactsRecord(
                    id: id, osqueryHostID: row["osquery_host_id"], hostname: row["hostname"], uuid: row["uuid"],
                    hardwareSerial: row["hardware_serial"], platform: row["platform"], osVersion: vitals.osVersion,
                    primaryIP: vitals.primaryIP, primaryMAC: vitals.primaryMAC,
                    loggedInUser: vitals.loggedInUser, labels: labels[id] ?? [])
            }
        }
    }
}

/// The four fields of a host's stored vitals (``HostVitals`` JSON) that enrichment adds, picked
/// out with a scanner: decoding the whole ``HostVitals`` with `JSONDecoder` for every host that
/// changed was 5% of the server's CPU while 5,000 hosts enrolled (`perf`, capacity benchmark).
struct EnrichmentVitals: Equatable {
    var osVersion = ""
    var primaryIP = ""
    var primaryMAC = ""
    var loggedInUser = ""

    /// Unreadable vitals give empty fields, as an undecodable ``HostVitals`` did.
    init(json: String) {
        var json = json
        let found: EnrichmentVitals? = json.withUTF8 { bytes in
            var scanner = JSONScanner(bytes)
            var found = EnrichmentVitals()
            do {
                try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                    switch key {
                    case "osVersion": found.osVersion = try Self.string(&s)
                    case "primaryIP": found.primaryIP = try Self.string(&s)
                    case "primaryMAC": found.primaryMAC = try Self.string(&s)
                    case "loggedInUsers" where s.peek() == UInt8(ascii: "["):
                        var first: String?
                        try s.forEachElement { (e: inout JSONScanner) throws(JSONScanError) in
                            if first == nil, e.peek() == UInt8(ascii: "\"") { first = try e.parseString() } else { try e.skipValue() }
                        }
                        found.loggedInUser = first ?? ""
                    default: try s.skipValue()
                    }
                }
                return found
            } catch {
                return nil
            }
        }
        self = found ?? EnrichmentVitals()
    }

    init(osVersion: String, primaryIP: String, primaryMAC: String, loggedInUser: String) {
        self.osVersion = osVersion
        self.primaryIP = primaryIP
        self.primaryMAC = primaryMAC
        self.loggedInUser = loggedInUser
    }

    private init() {}

    /// A string value, or "" for anything else (null).
    private static func string(_ s: inout JSONScanner) throws(JSONScanError) -> String {
        if s.peek() == UInt8(ascii: "\"") { return try s.parseString() }
        try s.skipValue()
        return ""
    }
}
