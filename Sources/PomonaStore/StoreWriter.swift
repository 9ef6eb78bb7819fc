import Foundation
import GRDB
import Logging
import PomonaCore

/// A write the check-in and result paths hand to the ``StoreWriter``.
public enum StoreWrite: Sendable {
    /// Last-seen times from the registry.
    case seen([Int64: Date])
    /// The outcome of a detail query for a host.
    case detail(hostID: Int64, outcome: DetailQueryIngest.Outcome, at: Date)
    /// Marks vitals as refreshed (after all detail results of one write were applied).
    case detailsRefreshed(hostID: Int64, at: Date)
    /// Any other distributed query result, kept for the admin API (one per host and name: a
    /// resent or reused name replaces the older result).
    case distributedResult(DistributedResult)
    /// Label membership, policy pass/fail and live-query results (Datastore+Campaigns.swift).
    case fleet(FleetResultWrite)
}

/// The result of one non-detail distributed query from one host.
public struct DistributedResult: Sendable {
    public var hostID: Int64
    public var name: String
    public var status: Int
    public var message: String
    /// The `queries[name]` array as compact JSON text.
    public var rowsJSON: String
    public var rowCount: Int
    public var statsJSON: String?
    public var receivedAt: Date

    public init(hostID: Int64, name: String, status: Int, message: String, rowsJSON: String, rowCount: Int, statsJSON: String?, receivedAt: Date) {
        self.hostID = hostID
        self.name = name
        self.status = status
        self.message = message
        self.rowsJSON = rowsJSON
        self.rowCount = rowCount
        self.statsJSON = statsJSON
        self.receivedAt = receivedAt
    }
}

/// The single batching writer for high-volume, small writes (group commit).
///
/// Concurrency contract: callers `await write(_:)`, which returns once the write is committed.
/// While one transaction runs, new writes queue up; the next transaction takes all of them at once.
/// Under load this turns thousands of one-row transactions into a few large ones (SQLite does
/// ~15k transactions/s but ~300k rows/s in batches), and when idle a write commits at once.
/// If a batch fails, each write is retried alone so one bad write cannot fail its neighbours.
public actor StoreWriter {
    let store: Datastore
    let logger: Logger
    /// Each entry is applied as a unit: all its writes or none.
    private var pending: [([StoreWrite], CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    public private(set) var transactions = 0
    public private(set) var writes = 0

    public init(store: Datastore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Number of writes waiting for the next transaction.
    public var queueDepth: Int { pending.count }

    /// Queues a write and waits until it is committed.
    public func write(_ write: StoreWrite) async throws {
        try await self.write([write])
    }

    /// Queues writes that commit together or not at all (e.g. all results of one request), and
    /// waits until they are committed.
    public func write(_ writes: [StoreWrite]) async throws {
        if writes.isEmpty { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            pending.append((writes, continuation))
            if !flushing {
                flushing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                try await store.pool.write { db in
                    for (items, _) in batch {
                        for item in items { try Self.apply(item, db) }
                    }
                }
                transactions += 1
                writes += batch.count
                for (_, continuation) in batch { continuation.resume() }
            } catch {
                // Retry one unit at a time so only the faulty one fails.
                for (items, continuation) in batch {
                    do {
                        try await store.pool.write { db in
                            for item in items { try Self.apply(item, db) }
                        }
                        transactions += 1
                        writes += 1
                        continuation.resume()
                    } catch {
                        logger.error("store write failed", metadata: ["error": "\(error)"])
                        continuation.resume(throwing: error)
                    }
                }
            }
        }
        flushing = false
    }

    static func apply(_ write: StoreWrite, _ db: Database) throws {
        switch write {
        case .seen(let seen):
            let statement = try db.cachedStatement(sql: "UPDATE hosts SET seen_at = MAX(COALESCE(seen_at, 0), ?) WHERE id = ?")
            for (id, date) in seen { try statement.execute(arguments: [date.storeValue, id]) }
        case .detail(let hostID, let outcome, _):
            switch outcome {
            case .vitals(let update):
                guard let text = try String.fetchOne(db, sql: "SELECT vitals FROM hosts WHERE id = ?", arguments: [hostID]) else { return }
                var vitals = Datastore.decodeVitals(text)
                vitals.merge(update)
                try db.execute(
                    sql: "UPDATE hosts SET vitals = ?, uuid = ?, hardware_serial = ?, hostname = ?, computer_name = ?, platform = ? WHERE id = ?",
                    arguments: [
                        Datastore.encodeVitals(vitals), vitals.uuid ?? "", vitals.hardwareSerial ?? "", vitals.hostname ?? "",
                        vitals.computerName ?? "", vitals.platform ?? "", hostID,
                    ])
            case .software(let items):
                try db.execute(sql: "DELETE FROM host_software WHERE host_id = ?", arguments: [hostID])
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO software (name, version, source, bundle_identifier) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name, version, source, bundle_identifier) DO UPDATE SET name = excluded.name RETURNING id
                    """)
                let link = try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO host_software (host_id, software_id, installed_path, last_opened_at) VALUES (?, ?, ?, ?)
                    """)
                for item in items {
                    guard let id = try Int64.fetchOne(upsert, arguments: [item.name, item.version, item.source, item.bundleIdentifier]) else { continue }
                    try link.execute(arguments: [hostID, id, item.installedPath, item.lastOpenedAt])
                }
            case .users(let users):
                try db.execute(sql: "DELETE FROM host_users WHERE host_id = ?", arguments: [hostID])
                let insert = try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO host_users (host_id, uid, username, type, groupname, shell) VALUES (?, ?, ?, ?, ?, ?)
                    """)
                for u in users { try insert.execute(arguments: [hostID, u.uid, u.username, u.type, u.groupname, u.shell]) }
            }
        case .detailsRefreshed(let hostID, let at):
            try db.execute(
                sql: "UPDATE hosts SET detail_updated_at = ?, refetch_requested = 0 WHERE id = ?", arguments: [at.storeValue, hostID])
        case .fleet(let write): try write.apply(db)
        case .distributedResult(let r):
            try db.execute(
                sql: """
                    INSERT INTO distributed_results (host_id, name, status, message, rows, row_count, stats, received_at)
                    SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM hosts WHERE id = ?)
                    ON CONFLICT(name, host_id) DO UPDATE SET status = excluded.status, message = excluded.message,
                    rows = excluded.rows, row_count = excluded.row_count, stats = excluded.stats, received_at = excluded.received_at
                    """,
                arguments: [r.hostID, r.name, r.status, r.message, r.rowsJSON, r.rowCount, r.statsJSON, r.receivedAt.storeValue, r.hostID])
        }
    }
}
