import Foundation
import GRDB
public import PomonaCore
import Synchronization

/// Checks osquery SQL by compiling it against a stand-in of osquery's schema in SQLite.
///
/// For each platform the checker builds, on first use, an in-memory SQLite database with one empty
/// ordinary table per osquery table available there (every column, hidden ones included, declared
/// with osquery's type names so affinities match; osquery's table and column aliases too, see
/// `OsquerySchemaAliases`), the SQL functions and collations osquery adds to
/// SQLite (as no-op stubs), and double-quoted string literals allowed as in osquery's SQLite. A query
/// is then *prepared* — never executed — against each target platform's database, so SQLite itself
/// names the unknown table or column.
///
/// ```swift
/// let checker = OsquerySchemaChecker()
/// try checker.check(sql: "SELECT name FROM apps", platforms: [.darwin])     // fine
/// try checker.check(sql: "SELECT name FROM apps", platforms: [.linux])
/// // throws: table "apps" is not available on linux (it exists on: darwin)
/// ```
///
/// ## Platform rule
/// An empty platform set, or all three platforms, is checked against one database holding the
/// tables of *every* platform: an unrestricted query is fine when each table exists somewhere
/// (osquery agents without the table just log an error), while typos are still caught. Any real
/// restriction is checked strictly on every platform in it. See ``QuerySyntaxChecking``.
///
/// ## What is not caught
/// * Missing constraints on required columns (`SELECT * FROM file` without `path`): osquery
///   compiles those too and only returns no rows.
/// * Differences between the SQLite versions: the host SQLite (3.40 on the build machine) may
///   know built-in functions that osquery's SQLite lacks (SQLite's optional math functions such as
///   `ln` or `trunc`), and the reverse for syntax newer than the host's SQLite.
/// * A trigger body (`BEGIN … ; … END`) is split at its first `;`; triggers are not read-only, so
///   they would be refused anyway.
///
/// ## Concurrency
/// The checker is `Sendable` and may be called from any thread or task. Each schema database is a
/// GRDB `DatabaseQueue` (which serialises its own access), created once under a `Mutex` the first
/// time its platform is checked. `check` blocks the caller for the duration of one
/// `sqlite3_prepare` per platform (microseconds to a millisecond), plus about 10–30 ms on the
/// first call for a platform while its schema is built.
public final class OsquerySchemaChecker: QuerySyntaxChecking {
    /// The tables the stand-in schemas are built from.
    public let catalog: OsqueryTableCatalog

    /// Which set of tables a schema database holds.
    private enum Scope: Hashable {
        case platform(OsqueryPlatform)
        /// Tables of every platform: for queries without a platform restriction.
        case anyPlatform
    }

    /// Schema databases built so far. Guarded by the mutex because two tasks may ask for the same
    /// platform at once; building under the lock makes sure each is built exactly once.
    private let databases = Mutex<[Scope: DatabaseQueue]>([:])

    /// Creates a checker for a catalog; nothing is built until the first check.
    /// - Parameter catalog: Table facts; defaults to the catalog bundled with Pomona.
    public init(catalog: OsqueryTableCatalog = .shared) {
        self.catalog = catalog
    }

    // MARK: - Checking

    /// Checks that `sql` is one read-only statement that compiles on every target platform.
    ///
    /// - Parameters:
    ///   - sql: The query text.
    ///   - platforms: Target platforms; empty or all three = unrestricted.
    /// - Throws: ``QueryValidationError``: `.empty`, `.multipleStatements`, `.syntax`,
    ///   `.unknownTable`, `.tableNotOnPlatform`, `.unknownColumn`, `.unknownFunction`, `.notReadOnly`.
    public func check(sql: String, platforms: Set<OsqueryPlatform>) throws(QueryValidationError) {
        let split = SQLStatementSplitter.split(sql)
        guard let statement = split.first else { throw .empty() }
        if let remainder = split.remainder { throw .multipleStatements(remainder: remainder) }

        let scopes: [Scope] =
            platforms.isEmpty || platforms.count == OsqueryPlatform.allCases.count
            ? [.anyPlatform]
            : platforms.sorted().map { .platform($0) }
        for scope in scopes {
            try check(statement: statement, in: scope)
        }
        // SQLite counts ATTACH, DETACH and BEGIN as read-only (they do not change the database
        // file), so the keyword is checked too, after compiling so a typo (`SELEC`) is reported as
        // a syntax error. osquery's authorizer never allows ATTACH.
        if !Self.readingKeywords.contains(SQLStatementSplitter.leadingKeyword(statement)) {
            throw .notReadOnly()
        }
    }

    /// Statements a scheduled query may start with.
    private static let readingKeywords: Set<String> = ["SELECT", "WITH", "VALUES", "PRAGMA"]

    /// Builds the schema databases for these platforms now rather than on the first check, so the
    /// first admin request does not pay for it.
    public func warmUp(platforms: [OsqueryPlatform] = OsqueryPlatform.allCases) throws {
        _ = try database(for: .anyPlatform)
        for platform in platforms { _ = try database(for: .platform(platform)) }
    }

    private func check(statement sql: String, in scope: Scope) throws(QueryValidationError) {
        let platform: OsqueryPlatform? =
            if case .platform(let platform) = scope { platform } else { nil }
        do {
            let queue = try database(for: scope)
            let isReadOnly = try queue.inDatabase { db in try db.makeStatement(sql: sql).isReadonly }
            if !isReadOnly { throw QueryValidationError.notReadOnly() }
        } catch let error as QueryValidationError {
            throw error
        } catch let error as DatabaseError {
            throw interpret(error, platform: platform)
        } catch {
            // Only schema construction can get here (it throws DatabaseError too, in practice).
            throw .syntax("cannot check the query: \(error)", platform: platform)
        }
    }

    /// Turns SQLite's compile error into a ``QueryValidationError``, consulting the catalog to tell
    /// an unknown table from one that exists on other platforms.
    private func interpret(_ error: DatabaseError, platform: OsqueryPlatform?) -> QueryValidationError {
        let message = error.message ?? "\(error)"
        if message == "empty statement" { return .empty() }
        if let name = message.suffix(after: "no such table: ") {
            // SQLite names a schema-qualified table as written (`main.apps`); the catalog knows `apps`.
            let bare = name.split(separator: ".").last.map(String.init) ?? name
            let target = OsquerySchemaAliases.tables[bare.lowercased()] ?? bare
            if let platform, let table = catalog.table(named: target), !table.platforms.isEmpty {
                return .tableNotOnPlatform(bare, platform: platform, availableOn: table.platforms)
            }
            return .unknownTable(bare, platform: platform)
        }
        if let name = message.suffix(after: "no such column: ") { return .unknownColumn(name, platform: platform) }
        if let name = message.suffix(after: "no such function: ") { return .unknownFunction(name, platform: platform) }
        return .syntax(message, platform: platform)
    }

    // MARK: - Schema databases

    private func database(for scope: Scope) throws -> DatabaseQueue {
        try databases.withLock { built in
            if let queue = built[scope] { return queue }
            let queue = try makeDatabase(for: scope)
            built[scope] = queue
            return queue
        }
    }

    private func makeDatabase(for scope: Scope) throws -> DatabaseQueue {
        var configuration = Configuration()
        // osquery's SQLite keeps the legacy behaviour where "text" that names no column is a string
        // literal; GRDB turns it off by default. Official packs rely on it.
        configuration.acceptsDoubleQuotedStringLiterals = true
        configuration.label = "osquery-schema"
        let queue = try DatabaseQueue(configuration: configuration)

        let tables: [OsqueryTableCatalog.Table] =
            switch scope {
            case .platform(let platform): catalog.tables(on: platform)
            case .anyPlatform: catalog.tables
            }
        try queue.inDatabase { db in
            OsquerySQLExtensions.register(in: db)
            var created: Set<String> = []
            for table in tables where !table.columns.isEmpty {
                try db.execute(sql: Self.createTableSQL(for: table))
                created.insert(table.name)
            }
            // Table aliases are views, as in osquery, and exist where their table exists.
            for (alias, table) in OsquerySchemaAliases.tables.sorted(by: { $0.key < $1.key })
            where created.contains(table) && !created.contains(alias) {
                try db.execute(
                    sql: "CREATE VIEW \(alias.quotedDatabaseIdentifier) AS SELECT * FROM \(table.quotedDatabaseIdentifier)")
            }
        }
        return queue
    }

    /// `CREATE TABLE "name" ("col" TYPE, …)` for one osquery table, column aliases included.
    static func createTableSQL(for table: OsqueryTableCatalog.Table) -> String {
        var columns = table.columns.map { "\($0.name.quotedDatabaseIdentifier) \($0.type.sqlDeclaration)" }
        let known = Set(table.columns.map { $0.name.lowercased() })
        for (alias, original) in (OsquerySchemaAliases.columns[table.name] ?? [:]).sorted(by: { $0.key < $1.key })
        where !known.contains(alias) {
            let type = table.column(named: original)?.type ?? .text
            columns.append("\(alias.quotedDatabaseIdentifier) \(type.sqlDeclaration)")
        }
        return "CREATE TABLE \(table.name.quotedDatabaseIdentifier) (\(columns.joined(separator: ", ")))"
    }
}

extension String {
    /// The rest of the string after `prefix`, when it starts with it.
    fileprivate func suffix(after prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
