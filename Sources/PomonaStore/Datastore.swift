import Foundation
import GRDB
import Logging
import PomonaCore

/// Pomona's SQLite database: one file in WAL mode, one writer, a pool of readers.
///
/// Concurrency contract (GRDB's `DatabasePool`): reads run concurrently with each other and with
/// the single writer; writes are serialised. Hot paths (check-ins, log ingest) never call into this
/// type: they use in-memory state, and the ``StoreWriter`` persists their side effects in batches.
/// This module is the only one that speaks SQL.
public final class Datastore: Sendable {
    /// Internal: no other module sees GRDB; everything goes through the store's methods.
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 4
        configuration.prepareDatabase { db in
            // NORMAL is durable in WAL mode except for the last transactions on power loss; a
            // kill -9 of the process loses nothing that was committed.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        self.path = path
        self.pool = try DatabasePool(path: path, configuration: configuration)
        // Datastore+Compatibility.swift: a newer release's database is refused, not migrated.
        try pool.read { db in try Datastore.refuseNewerSchema(db, path: path) }
        try Datastore.migrator.migrate(pool)
    }

    /// `PRAGMA integrity_check`; "ok" when the file is sound.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    /// The database file.
    public var location: String { path }

    /// The journal mode SQLite runs in ("wal" once opened).
    public func journalMode() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Size of the database file plus its WAL, in bytes.
    public func fileSize() -> Int64 {
        let fm = FileManager.default
        return [path, path + "-wal"].reduce(0) { sum, p in
            sum + ((try? fm.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0)
        }
    }

    /// Writes the WAL back into the main file and closes all connections (on shutdown).
    public func close() async throws {
        try? await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try pool.close()
    }
}

extension Date {
    /// Seconds since 1970 as stored in the database (REAL columns).
    var storeValue: Double { timeIntervalSince1970 }
    init(storeValue: Double) { self.init(timeIntervalSince1970: storeValue) }
}
