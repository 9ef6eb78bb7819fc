/// Why a query's SQL would not run on osquery.
///
/// The ``message`` is meant for an admin and is precise enough to act on:
///
/// ```text
/// table "apps" is not available on linux (it exists on: darwin)
/// no such column: foo
/// near "SELEC": syntax error
/// ```
///
/// Match on ``code`` rather than on the message; codes are static members of an extensible struct,
/// so adding one later does not break a `switch` with a `default`.
public struct QueryValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public let code: Code
    /// The offending table, column or function name, when there is one.
    public let name: String?
    /// The platform whose schema rejected the query, when the problem is platform-specific.
    public let platform: OsqueryPlatform?
    /// A human-readable explanation, one line.
    public let message: String

    public init(code: Code, name: String? = nil, platform: OsqueryPlatform? = nil, message: String) {
        self.code = code
        self.name = name
        self.platform = platform
        self.message = message
    }

    public var description: String { message }

    // MARK: - Codes

    /// A kind of validation problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case empty, tooLong, syntax, unknownTable, tableNotOnPlatform, unknownColumn, unknownFunction
            case multipleStatements, notReadOnly, noTargetPlatform
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The SQL is empty, or only whitespace, `;` and comments.
        public static let empty = Code(.empty)
        /// The SQL is longer than the configured limit.
        public static let tooLong = Code(.tooLong)
        /// SQLite could not compile the statement (syntax, wrong argument count, ambiguous column…).
        public static let syntax = Code(.syntax)
        /// No osquery platform has a table of this name.
        public static let unknownTable = Code(.unknownTable)
        /// The table exists, but not on a platform the query targets.
        public static let tableNotOnPlatform = Code(.tableNotOnPlatform)
        /// A column that no table in the query has.
        public static let unknownColumn = Code(.unknownColumn)
        /// A function neither SQLite nor osquery provides.
        public static let unknownFunction = Code(.unknownFunction)
        /// More than one statement; osquery schedules exactly one.
        public static let multipleStatements = Code(.multipleStatements)
        /// The statement writes (INSERT, CREATE, …); scheduled queries must only read.
        public static let notReadOnly = Code(.notReadOnly)
        /// The pack's and the query's platform filters leave no platform to run on.
        public static let noTargetPlatform = Code(.noTargetPlatform)

        public var description: String { base.rawValue }
    }

    // MARK: - Constructors

    /// The SQL has no statement in it.
    public static func empty() -> QueryValidationError {
        QueryValidationError(code: .empty, message: "query is empty")
    }

    /// The SQL is `length` bytes long, more than `limit`.
    public static func tooLong(length: Int, limit: Int) -> QueryValidationError {
        QueryValidationError(code: .tooLong, message: "query is \(length) bytes long; the limit is \(limit) bytes")
    }

    /// No platform has the table: `no such table: foo`.
    public static func unknownTable(_ name: String, platform: OsqueryPlatform? = nil) -> QueryValidationError {
        QueryValidationError(code: .unknownTable, name: name, platform: platform, message: "no such table: \(name)")
    }

    /// The table exists only on `availableOn`, which does not include `platform`.
    public static func tableNotOnPlatform(
        _ name: String, platform: OsqueryPlatform, availableOn: Set<OsqueryPlatform>
    ) -> QueryValidationError {
        let list = availableOn.sorted().map(\.rawValue).joined(separator: ", ")
        return QueryValidationError(
            code: .tableNotOnPlatform, name: name, platform: platform,
            message: "table \"\(name)\" is not available on \(platform.rawValue) (it exists on: \(list))")
    }

    /// No table in the query has the column: `no such column: foo`.
    public static func unknownColumn(_ name: String, platform: OsqueryPlatform? = nil) -> QueryValidationError {
        QueryValidationError(code: .unknownColumn, name: name, platform: platform, message: "no such column: \(name)")
    }

    /// Neither SQLite nor osquery has the function: `no such function: foo`.
    public static func unknownFunction(_ name: String, platform: OsqueryPlatform? = nil) -> QueryValidationError {
        QueryValidationError(code: .unknownFunction, name: name, platform: platform, message: "no such function: \(name)")
    }

    /// SQLite's own compile error, verbatim (`near "SELEC": syntax error`).
    public static func syntax(_ message: String, platform: OsqueryPlatform? = nil) -> QueryValidationError {
        QueryValidationError(code: .syntax, platform: platform, message: message)
    }

    /// Something other than whitespace, `;` or comments follows the first statement.
    public static func multipleStatements(remainder: String) -> QueryValidationError {
        let excerpt = remainder.count > 40 ? String(remainder.prefix(40)) + "…" : remainder
        return QueryValidationError(
            code: .multipleStatements,
            message: "only one SQL statement is allowed, but another follows: \"\(excerpt)\"")
    }

    /// The statement would write to the database.
    public static func notReadOnly() -> QueryValidationError {
        QueryValidationError(
            code: .notReadOnly, message: "only read-only statements (SELECT, WITH, VALUES, PRAGMA) can be scheduled")
    }

    /// The pack's platform filter excludes every platform the query's own filter selects.
    public static func noTargetPlatform(packPlatform: String, queryPlatform: String) -> QueryValidationError {
        QueryValidationError(
            code: .noTargetPlatform,
            message: "the pack platform \"\(packPlatform)\" and the query platform \"\(queryPlatform)\" have no platform in common")
    }
}
