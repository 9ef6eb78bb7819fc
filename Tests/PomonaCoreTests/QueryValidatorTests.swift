import PomonaCore
import Synchronization
import Testing

/// Records what it was asked and fails on demand, so the validator's own logic is tested alone.
final class RecordingChecker: QuerySyntaxChecking {
    let calls = Mutex<[(sql: String, platforms: Set<OsqueryPlatform>)]>([])
    let failure: QueryValidationError?

    init(failure: QueryValidationError? = nil) { self.failure = failure }

    func check(sql: String, platforms: Set<OsqueryPlatform>) throws(QueryValidationError) {
        calls.withLock { $0.append((sql, platforms)) }
        if let failure { throw failure }
    }
}

@Suite("QueryValidator")
struct QueryValidatorTests {
    @Test(arguments: ["", "   ", " ;\n; ", "\t"])
    func emptyQueriesAreRejectedWithoutTheChecker(sql: String) {
        let checker = RecordingChecker()
        let validator = QueryValidator(checker: checker)
        #expect(throws: QueryValidationError.empty()) { try validator.validate(sql: sql, platforms: []) }
        #expect(checker.calls.withLock { $0.isEmpty })
    }

    @Test func tooLongQueriesAreRejected() {
        let validator = QueryValidator(checker: RecordingChecker(), maximumLength: 10)
        let error = #expect(throws: QueryValidationError.self) {
            try validator.validate(sql: "SELECT 1234567", platforms: [])
        }
        #expect(error?.code == .tooLong)
        #expect(error?.message == "query is 14 bytes long; the limit is 10 bytes")
        #expect(QueryValidator.defaultMaximumLength == 65536)
    }

    @Test func delegatesToTheChecker() throws {
        let checker = RecordingChecker()
        try QueryValidator(checker: checker).validate(sql: "SELECT 1", platforms: [.linux])
        #expect(checker.calls.withLock { $0.map(\.sql) } == ["SELECT 1"])
        #expect(checker.calls.withLock { $0.map(\.platforms) } == [[.linux]])
    }

    @Test func packAndQueryPlatformsIntersect() throws {
        let checker = RecordingChecker()
        let validator = QueryValidator(checker: checker)
        let query = ScheduledQuery(name: "q", sql: "SELECT 1", interval: 60, platform: "posix")
        try validator.validate(query, packPlatform: "darwin,windows")
        #expect(checker.calls.withLock { $0.last?.platforms } == [.darwin])

        let linuxOnly = ScheduledQuery(name: "q", sql: "SELECT 1", interval: 60, platform: "linux")
        let error = #expect(throws: QueryValidationError.self) {
            try validator.validate(linuxOnly, packPlatform: "windows")
        }
        #expect(error?.code == .noTargetPlatform)
    }

    @Test func problemsAreKeyedByQueryName() {
        let failure = QueryValidationError.unknownTable("nope")
        let validator = QueryValidator(checker: RecordingChecker(failure: failure))
        let pack = QueryPack(
            name: "p", discovery: ["SELECT 1"],
            queries: [
                ScheduledQuery(name: "a", sql: "SELECT * FROM nope", interval: 60),
                ScheduledQuery(name: "b", sql: "", interval: 60),
            ])
        let problems = validator.problems(in: pack)
        #expect(problems["a"] == failure)
        #expect(problems["b"]?.code == .empty)
        #expect(validator.discoveryProblems(in: pack) == [0: failure])
    }

    @Test func errorMessagesAreSpecific() {
        #expect(
            QueryValidationError.tableNotOnPlatform("apps", platform: .linux, availableOn: [.darwin]).description
                == "table \"apps\" is not available on linux (it exists on: darwin)")
        #expect(
            QueryValidationError.tableNotOnPlatform("x", platform: .darwin, availableOn: [.windows, .linux]).message
                == "table \"x\" is not available on darwin (it exists on: linux, windows)")
        #expect(QueryValidationError.unknownColumn("foo").message == "no such column: foo")
        #expect(QueryValidationError.syntax("near \"SELEC\": syntax error").code == .syntax)
        #expect(QueryValidationError.Code.unknownTable.description == "unknownTable")
    }
}
