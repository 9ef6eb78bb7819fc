import GRDB

/// A database this Pomona must not open: written by a newer release, whose migrations it does
/// not know. Opening it anyway would run old code against a newer schema (and a later
/// downgrade-upgrade cycle could skip migrations), so it is refused with what to do instead.
public struct NewerSchemaError: Error, CustomStringConvertible, Equatable {
    public var path: String
    /// The applied migrations this release does not have, sorted.
    public var unknownMigrations: [String]

    public init(path: String, unknownMigrations: [String]) {
        self.path = path
        self.unknownMigrations = unknownMigrations
    }

    public var description: String {
        "the database \(path) was written by a newer Pomona (migrations this release does not know: "
            + unknownMigrations.map { "\"\($0)\"" }.joined(separator: ", ")
            + "); run that release or newer, or restore a backup taken with this one (pomona restore)"
    }
}

extension Datastore {
    /// Every migration this release knows, oldest first (the last is the schema it writes).
    public static var knownMigrations: [String] { migrator.migrations }

    /// Throws ``NewerSchemaError`` when `db` has migrations applied that this release lacks.
    static func refuseNewerSchema(_ db: Database, path: String) throws {
        let applied = try migrator.appliedIdentifiers(db)
        let unknown = applied.subtracting(migrator.migrations)
        if !unknown.isEmpty { throw NewerSchemaError(path: path, unknownMigrations: unknown.sorted()) }
    }

    /// The migrations applied to the database at `path`, oldest first by this release's order
    /// (unknown ones last), without migrating it.
    public static func appliedMigrations(atPath path: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let applied = try migrator.appliedIdentifiers(db)
            return migrator.migrations.filter(applied.contains) + applied.subtracting(migrator.migrations).sorted()
        }
    }
}
