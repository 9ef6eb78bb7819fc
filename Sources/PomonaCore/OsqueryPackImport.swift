/// The result of importing an osquery pack file: the pack as written, and what would not run.
///
/// ```swift
/// let result = try OsqueryPackImporter.importPack(data: data, packName: "it-compliance", validator: validator)
/// for warning in result.warnings { print("warning:", warning) }
/// try store.save(result.validPack)
/// ```
public struct OsqueryPackImport: Sendable, Equatable {
    /// Every query in the file, valid or not, sorted by name.
    public var pack: QueryPack
    /// Validation problems by query name. A query listed here would fail on (some) agents.
    public var problems: [String: QueryValidationError]
    /// Validation problems of discovery queries, by index in `pack.discovery`.
    public var discoveryProblems: [Int: QueryValidationError]

    public init(
        pack: QueryPack, problems: [String: QueryValidationError] = [:],
        discoveryProblems: [Int: QueryValidationError] = [:]
    ) {
        self.pack = pack
        self.problems = problems
        self.discoveryProblems = discoveryProblems
    }

    /// The pack without the queries that have problems.
    ///
    /// Discovery queries are kept even when invalid: dropping one would make the pack run on hosts
    /// it was meant to skip. An invalid discovery query makes osquery skip the pack instead, which
    /// is the safe failure, and ``warnings`` reports it.
    public var validPack: QueryPack {
        var pack = pack
        pack.queries.removeAll { problems[$0.name] != nil }
        return pack
    }

    /// One line per problem, sorted, for printing: `query "x": no such table: foo`.
    public var warnings: [String] {
        let queryLines = problems.keys.sorted().map { "query \"\($0)\": \(problems[$0]!.message)" }
        let discoveryLines = discoveryProblems.keys.sorted().map {
            "discovery query \($0 + 1): \(discoveryProblems[$0]!.message)"
        }
        return queryLines + discoveryLines
    }
}
