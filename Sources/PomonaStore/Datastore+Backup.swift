import GRDB

extension Datastore {
    /// Writes a consistent copy of the database at `path` to `destination` (which must not
    /// exist) with `VACUUM INTO`, on a read-only connection of its own.
    ///
    /// Safe while a server serves from the same file: in WAL mode the copy is one read
    /// transaction, a snapshot of the last commit before it began, and it blocks no writer (the
    /// writer goes on appending to the WAL meanwhile). The copy is compact and self-contained
    /// (no `-wal` to carry along). A newer release's database is refused like at open.
    public static func snapshot(databaseAt path: String, to destination: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        try queue.inDatabase { db in
            try refuseNewerSchema(db, path: path)
            try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
        }
    }

    /// `PRAGMA integrity_check` of the database file at `path`, opened read-only and not
    /// migrated ("ok" when sound).
    public static func integrityCheck(atPath path: String) throws -> String {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }
}
