/// Something that can tell whether SQL compiles against osquery's schema.
///
/// PomonaCore has no SQLite, so the real checker (`OsquerySchemaChecker`) lives in PomonaStore and
/// is handed to ``QueryValidator`` by whoever wires the server together. Tests can pass a stub.
///
/// ## Contract
/// * `platforms` is the set of platforms the query will run on. An **empty set, or all three
///   platforms, means "no restriction"**: the query is then accepted when every table it names
///   exists on *some* platform. This is what an osquery admin expects of a query without a
///   `platform` filter: each agent runs what it can and reports `no such table` for the rest, and a
///   typo is still caught because it exists nowhere. A real restriction (`darwin`, `posix`, …) is
///   checked strictly against every platform in the set.
/// * The SQL is compiled, never executed.
/// * Implementations must be safe to call from any task.
public protocol QuerySyntaxChecking: Sendable {
    /// Checks that `sql` is one statement that compiles against the schema of every target platform.
    ///
    /// - Parameters:
    ///   - sql: The query text, exactly as it will be sent to osquery.
    ///   - platforms: The platforms the query targets; empty or all three = unrestricted.
    /// - Throws: ``QueryValidationError`` describing the first problem found.
    func check(sql: String, platforms: Set<OsqueryPlatform>) throws(QueryValidationError)
}
