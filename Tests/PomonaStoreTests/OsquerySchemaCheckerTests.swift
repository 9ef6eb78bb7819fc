import PomonaCore
import PomonaStore
import Testing

@Suite("OsquerySchemaChecker")
struct OsquerySchemaCheckerTests {
    /// One checker for the suite: building the schemas is the expensive part.
    static let checker = OsquerySchemaChecker()
    var checker: OsquerySchemaChecker { Self.checker }

    func error(_ sql: String, _ platforms: Set<OsqueryPlatform>) -> QueryValidationError? {
        #expect(throws: QueryValidationError.self) { try checker.check(sql: sql, platforms: platforms) }
    }

    @Test func acceptsValidQueries() throws {
        try checker.check(sql: "SELECT name, path FROM apps;", platforms: [.darwin])
        try checker.check(sql: "select p.pid, p.name from processes p join users u on u.uid = p.uid", platforms: [.linux])
        // Hidden columns can be used by name.
        try checker.check(sql: "SELECT env FROM process_events", platforms: [.darwin, .linux])
        // osquery's own functions and collations.
        try checker.check(
            sql: """
                SELECT regex_match(name, '^a', 0), split(path, '/', 1), sha256(name), concat(name, '-', path),
                       version_compare('1.0', '2.0'), community_id_v1('1.1.1.1', '2.2.2.2', 1, 2, 6),
                       in_cidr_block('10.0.0.0/8', '10.1.1.1'), power(2, 3), pi(), to_base64(name)
                FROM apps ORDER BY bundle_version COLLATE version
                """, platforms: [.darwin])
        try checker.check(sql: "SELECT carve(path) FROM file WHERE path = '/etc/passwd'", platforms: [.linux])
        // Double-quoted strings are literals when no column matches, as in osquery's SQLite.
        try checker.check(sql: "SELECT * FROM users WHERE username = \"root\"", platforms: [.darwin])
        // JSON functions and CTEs come with SQLite.
        try checker.check(sql: "WITH x AS (SELECT 1 AS n) SELECT json_object('n', n) FROM x", platforms: [])
        try checker.check(sql: "PRAGMA table_info(processes)", platforms: [.linux])
    }

    @Test func osqueryAliasesAreKnown() throws {
        try checker.check(sql: "SELECT * FROM alf_services", platforms: [.darwin])
        try checker.check(sql: "SELECT environment, access_time FROM process_events", platforms: [.linux])
        try checker.check(sql: "SELECT date_time FROM time", platforms: [.windows])
        let error = error("SELECT * FROM alf_services", [.linux])
        #expect(error?.message == "table \"alf_services\" is not available on linux (it exists on: darwin)")
    }

    @Test func unknownTableAnywhere() {
        let error = error("SELECT * FROM no_such_table", [.darwin])
        #expect(error?.code == .unknownTable)
        #expect(error?.name == "no_such_table")
        #expect(error?.platform == .darwin)
        #expect(error?.message == "no such table: no_such_table")
    }

    @Test func tableOnAnotherPlatform() {
        let error = error("SELECT name FROM apps", [.linux])
        #expect(error?.code == .tableNotOnPlatform)
        #expect(error?.name == "apps")
        #expect(error?.platform == .linux)
        #expect(error?.message == "table \"apps\" is not available on linux (it exists on: darwin)")
    }

    @Test func restrictionToSeveralPlatformsChecksEach() {
        // posix = darwin + linux; apps is darwin-only.
        let error = error("SELECT name FROM apps", [.darwin, .linux])
        #expect(error?.code == .tableNotOnPlatform)
        #expect(error?.platform == .linux)
    }

    @Test func unrestrictedQueriesNeedTheTableSomewhere() throws {
        try checker.check(sql: "SELECT name FROM apps", platforms: [])
        try checker.check(sql: "SELECT name FROM programs", platforms: Set(OsqueryPlatform.allCases))
        let error = error("SELECT * FROM appz", [])
        #expect(error?.code == .unknownTable)
        #expect(error?.platform == nil)
    }

    @Test func schemaQualifiedTableNames() {
        let error = error("SELECT * FROM main.apps", [.windows])
        #expect(error?.code == .tableNotOnPlatform)
        #expect(error?.name == "apps")
    }

    @Test func unknownColumn() {
        let error = error("SELECT foo FROM processes", [.linux])
        #expect(error?.code == .unknownColumn)
        #expect(error?.name == "foo")
        #expect(error?.message == "no such column: foo")
        #expect(self.error("SELECT p.foo FROM processes p", [.linux])?.message == "no such column: p.foo")
    }

    @Test func syntaxErrorsKeepSQLitesMessage() {
        let error = error("SELEC * FROM processes", [.linux])
        #expect(error?.code == .syntax)
        #expect(error?.message == "near \"SELEC\": syntax error")
        #expect(self.error("SELECT split(name) FROM processes", [.linux])?.code == .syntax)  // wrong arity
    }

    @Test func unknownFunction() {
        let error = error("SELECT frobnicate(name) FROM processes", [.linux])
        #expect(error?.code == .unknownFunction)
        #expect(error?.message == "no such function: frobnicate")
    }

    @Test func onlyOneReadOnlyStatement() {
        #expect(error("SELECT 1; SELECT 2", [])?.code == .multipleStatements)
        #expect(error("SELECT 1; garbage here", [])?.code == .multipleStatements)
        #expect(error("DELETE FROM processes", [.linux])?.code == .notReadOnly)
        #expect(error("CREATE TABLE x (a)", [])?.code == .notReadOnly)
        #expect(error("ATTACH DATABASE '/tmp/x' AS x", [])?.code == .notReadOnly)
        #expect(error("-- nothing", [])?.code == .empty)
    }

    @Test func worksThroughTheValidator() throws {
        let validator = QueryValidator(checker: checker)
        let query = ScheduledQuery(name: "q", sql: "SELECT name FROM apps", interval: 60, platform: "posix")
        #expect(throws: QueryValidationError.self) { try validator.validate(query) }
        try validator.validate(query, packPlatform: "darwin")
    }

    @Test func concurrentChecksOnAFreshChecker() async throws {
        let fresh = OsquerySchemaChecker()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<32 {
                let platform = OsqueryPlatform.allCases[index % 3]
                group.addTask { try fresh.check(sql: "SELECT pid FROM processes", platforms: [platform]) }
            }
            try await group.waitForAll()
        }
    }

    @Test func warmUpBuildsEverySchema() throws {
        try OsquerySchemaChecker().warmUp()
    }
}
