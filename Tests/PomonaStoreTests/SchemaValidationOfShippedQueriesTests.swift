import Foundation
import PomonaCore
import PomonaStore
import Testing

/// Validates the queries Pomona ships or imports against the table facts.
@Suite("Schema validation of shipped queries")
struct SchemaValidationOfShippedQueriesTests {
    static let validator = QueryValidator(checker: OsquerySchemaChecker())

    @Test func macOSBaselineIsValidOnDarwin() throws {
        for query in MacOSBaseline.queries {
            #expect(throws: Never.self, "\(query.name)") {
                try Self.validator.validate(sql: query.sql, platforms: [.darwin])
            }
        }
        #expect(Self.validator.problems(in: MacOSBaseline.pack).isEmpty)
    }

    /// The official packs (fixtures of PomonaCoreTests) with the queries known not to validate.
    ///
    /// `opera_extensions` was removed from osquery (folded into `chrome_extensions`, osquery
    /// commit cf722bc3f), so the agent really reports `no such table` for that query.
    static let knownProblems: [String: Set<String>] = ["vuln-management": ["opera_extensions"]]

    @Test(arguments: [
        "hardware-monitoring", "incident-response", "it-compliance", "osquery-monitoring", "ossec-rootkit",
        "osx-attacks", "unwanted-chrome-extensions", "vuln-management", "windows-attacks", "windows-hardening",
    ])
    func officialPackValidation(file: String) throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PomonaCoreTests/Fixtures/\(file).conf")
        let result = try OsqueryPackImporter.importPack(
            data: Data(contentsOf: url), packName: file, validator: Self.validator)
        for warning in result.warnings { print("[\(file)] \(warning)") }
        #expect(Set(result.problems.keys) == Self.knownProblems[file] ?? [], "\(result.warnings)")
        #expect(result.discoveryProblems.isEmpty)
        #expect(result.validPack.queries.count == result.pack.queries.count - result.problems.count)
    }
}

/// Pomona's own detail queries must run on every platform they are sent to.
@Suite struct DetailQueryValidationTests {
    @Test(arguments: DetailQuery.all.map(\.name))
    func detailQueryIsValidOnItsPlatforms(_ name: String) throws {
        let query = try #require(DetailQuery.all.first { $0.name == name })
        let checker = OsquerySchemaChecker()
        for platform in query.platforms {
            #expect(throws: Never.self, "\(name) on \(platform)") { try checker.check(sql: query.sql, platforms: [platform]) }
        }
    }
}
