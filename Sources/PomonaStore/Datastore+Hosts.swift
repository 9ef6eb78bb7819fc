import Foundation
import GRDB
import PomonaCore

/// A host as enrollment records it.
public struct EnrollmentRecord: Sendable {
    public var osqueryHostID: String
    public var nodeKeyDigest: NodeKeyDigest
    public var enrollSecretID: Int64
    public var vitals: HostVitals
    public var remoteIP: String
    public var now: Date

    public init(osqueryHostID: String, nodeKeyDigest: NodeKeyDigest, enrollSecretID: Int64, vitals: HostVitals, remoteIP: String, now: Date) {
        self.osqueryHostID = osqueryHostID
        self.nodeKeyDigest = nodeKeyDigest
        self.enrollSecretID = enrollSecretID
        self.vitals = vitals
        self.remoteIP = remoteIP
        self.now = now
    }
}

/// What ``Datastore/enroll(_:)`` did.
public struct EnrollmentOutcome: Sendable, Equatable {
    public var hostID: Int64
    /// True when an existing host record was reused (re-enrollment of the same identifier).
    public var reusedExistingHost: Bool
    /// Other hosts with the same hardware UUID (cloned machines), by id.
    public var duplicateUUIDHostIDs: [Int64]
    public var state: HostCheckInState
}

/// A stored host with everything the admin side shows.
public struct HostRecord: Sendable, Equatable {
    public var id: Int64
    public var osqueryHostID: String
    public var vitals: HostVitals
    public var remoteIP: String
    public var createdAt: Date
    public var lastEnrolledAt: Date
    public var seenAt: Date?
    public var detailUpdatedAt: Date?
    public var refetchRequested: Bool
}

extension Datastore {
    static let vitalsEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func encodeVitals(_ v: HostVitals) -> String {
        String(decoding: (try? vitalsEncoder.encode(v)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decodeVitals(_ s: String) -> HostVitals {
        (try? JSONDecoder().decode(HostVitals.self, from: Data(s.utf8))) ?? HostVitals()
    }

    /// Enrolls a host: reuses the record of the same `host_identifier` (osquery re-enrolls lazily and
    /// in bursts, spec §2), else creates one. Committed before the node key is handed out.
    public func enroll(_ record: EnrollmentRecord) async throws -> EnrollmentOutcome {
        try await pool.write { db in
            let existing = try Row.fetchOne(
                db, sql: "SELECT id, vitals, created_at, seen_at FROM hosts WHERE osquery_host_id = ? ORDER BY id LIMIT 1",
                arguments: [record.osqueryHostID])
            var vitals = record.vitals
            let hostID: Int64
            let createdAt: Date
            var seenAt: Date?
            if let existing {
                hostID = existing["id"]
                var stored = Datastore.decodeVitals(existing["vitals"])
                stored.merge(record.vitals)
                vitals = stored
                createdAt = Date(storeValue: existing["created_at"])
                seenAt = (existing["seen_at"] as Double?).map(Date.init(storeValue:))
                try db.execute(
                    sql: """
                        UPDATE hosts SET node_key_digest = ?, enroll_secret_id = ?, vitals = ?, uuid = ?, hardware_serial = ?,
                        hostname = ?, computer_name = ?, platform = ?, remote_ip = ?, last_enrolled_at = ?, refetch_requested = 1
                        WHERE id = ?
                        """,
                    arguments: [
                        record.nodeKeyDigest.hex, record.enrollSecretID, Datastore.encodeVitals(vitals), vitals.uuid ?? "",
                        vitals.hardwareSerial ?? "", vitals.hostname ?? "", vitals.computerName ?? "", vitals.platform ?? "",
                        record.remoteIP, record.now.storeValue, hostID,
                    ])
            } else {
                createdAt = record.now
                try db.execute(
                    sql: """
                        INSERT INTO hosts (node_key_digest, osquery_host_id, uuid, hardware_serial, hostname, computer_name, platform,
                        vitals, enroll_secret_id, remote_ip, created_at, last_enrolled_at, refetch_requested)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                        """,
                    arguments: [
                        record.nodeKeyDigest.hex, record.osqueryHostID, vitals.uuid ?? "", vitals.hardwareSerial ?? "",
                        vitals.hostname ?? "", vitals.computerName ?? "", vitals.platform ?? "", Datastore.encodeVitals(vitals),
                        record.enrollSecretID, record.remoteIP, record.now.storeValue, record.now.storeValue,
                    ])
                hostID = db.lastInsertedRowID
            }
            var duplicates: [Int64] = []
            if let uuid = vitals.uuid, !uuid.isEmpty {
                duplicates = try Int64.fetchAll(db, sql: "SELECT id FROM hosts WHERE uuid = ? AND id <> ?", arguments: [uuid, hostID])
            }
            let state = HostCheckInState(
                id: hostID, platform: vitals.platformFamily, hostnameKnown: vitals.hostname != nil, createdAt: createdAt,
                seenAt: seenAt, detailUpdatedAt: .distantPast, refetchRequested: true,
                distributedInterval: vitals.distributedInterval, configTLSRefresh: vitals.configTLSRefresh)
            return EnrollmentOutcome(hostID: hostID, reusedExistingHost: existing != nil, duplicateUUIDHostIDs: duplicates, state: state)
        }
    }

    /// Every host's check-in state, to rebuild the in-memory registry at start.
    public func loadCheckInStates() async throws -> [(HostCheckInState, NodeKeyDigest)] {
        try await pool.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, node_key_digest, vitals, created_at, seen_at, detail_updated_at, refetch_requested FROM hosts")
            var result: [(HostCheckInState, NodeKeyDigest)] = []
            while let row = try rows.next() {
                guard let digest = NodeKeyDigest(hex: row["node_key_digest"]) else { continue }
                let vitals = Datastore.decodeVitals(row["vitals"])
                let state = HostCheckInState(
                    id: row["id"], platform: vitals.platformFamily, hostnameKnown: vitals.hostname != nil,
                    createdAt: Date(storeValue: row["created_at"]),
                    seenAt: (row["seen_at"] as Double?).map(Date.init(storeValue:)),
                    detailUpdatedAt: (row["detail_updated_at"] as Double?).map(Date.init(storeValue:)) ?? .distantPast,
                    refetchRequested: row["refetch_requested"],
                    distributedInterval: vitals.distributedInterval, configTLSRefresh: vitals.configTLSRefresh)
                result.append((state, digest))
            }
            return result
        }
    }

    public func host(id: Int64) async throws -> HostRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM hosts WHERE id = ?", arguments: [id]).map(Datastore.hostRecord)
        }
    }

    public func hostCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hosts") ?? 0 }
    }

    static func hostRecord(_ row: Row) -> HostRecord {
        HostRecord(
            id: row["id"], osqueryHostID: row["osquery_host_id"], vitals: decodeVitals(row["vitals"]),
            remoteIP: row["remote_ip"], createdAt: Date(storeValue: row["created_at"]),
            lastEnrolledAt: Date(storeValue: row["last_enrolled_at"]),
            seenAt: (row["seen_at"] as Double?).map(Date.init(storeValue:)),
            detailUpdatedAt: (row["detail_updated_at"] as Double?).map(Date.init(storeValue:)),
            refetchRequested: row["refetch_requested"])
    }

    /// Software installed on a host, by name.
    public func software(hostID: Int64) async throws -> [SoftwareItem] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.name, s.version, s.source, s.bundle_identifier, hs.installed_path, hs.last_opened_at
                    FROM host_software hs JOIN software s ON s.id = hs.software_id WHERE hs.host_id = ? ORDER BY s.name, s.version
                    """, arguments: [hostID]
            ).map {
                SoftwareItem(
                    name: $0["name"], version: $0["version"], source: $0["source"], bundleIdentifier: $0["bundle_identifier"],
                    installedPath: $0["installed_path"], lastOpenedAt: $0["last_opened_at"])
            }
        }
    }

    public func users(hostID: Int64) async throws -> [HostUser] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM host_users WHERE host_id = ? ORDER BY username", arguments: [hostID]).map {
                HostUser(uid: $0["uid"], username: $0["username"], type: $0["type"], groupname: $0["groupname"], shell: $0["shell"])
            }
        }
    }

    /// Deletes a host and everything that hangs off it.
    public func deleteHost(id: Int64) async throws {
        _ = try await pool.write { db in try db.execute(sql: "DELETE FROM hosts WHERE id = ?", arguments: [id]) }
    }
}

extension Datastore {
    /// Stored results of a non-detail distributed query, newest first.
    public func distributedResults(name: String) async throws -> [DistributedResult] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM distributed_results WHERE name = ? ORDER BY id DESC", arguments: [name]).map {
                DistributedResult(
                    hostID: $0["host_id"], name: $0["name"], status: $0["status"], message: $0["message"], rowsJSON: $0["rows"],
                    rowCount: $0["row_count"], statsJSON: $0["stats"], receivedAt: Date(storeValue: $0["received_at"]))
            }
        }
    }
}
