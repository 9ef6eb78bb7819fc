import Foundation
import PomonaCore
import Testing

/// The official osquery packs, copied from osquery's `packs/` directory, with their query counts.
let officialPacks: [(file: String, queries: Int)] = [
    ("hardware-monitoring", 17), ("incident-response", 35), ("it-compliance", 32), ("osquery-monitoring", 3),
    ("ossec-rootkit", 60), ("osx-attacks", 74), ("unwanted-chrome-extensions", 14), ("vuln-management", 18),
    ("windows-attacks", 14), ("windows-hardening", 39),
]

func fixture(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "conf", subdirectory: "Fixtures"))
    return try Data(contentsOf: url)
}

func parse(_ json: String, name: String = "test") throws(OsqueryPackImportError) -> QueryPack {
    try OsqueryPackImporter.parse(data: Data(json.utf8), packName: name)
}

@Suite("OsqueryPackImporter")
struct OsqueryPackImporterTests {
    // MARK: Official packs

    @Test(arguments: officialPacks.map(\.file))
    func everyOfficialPackImports(file: String) throws {
        let pack = try OsqueryPackImporter.parse(data: fixture(file), packName: file)
        let expected = try #require(officialPacks.first { $0.file == file }?.queries)
        #expect(pack.name == file)
        #expect(pack.queries.count == expected)
        #expect(pack.queries.map(\.name) == pack.queries.map(\.name).sorted())
        for query in pack.queries {
            #expect((1...604_800).contains(query.interval), "\(query.name)")
            #expect(!query.sql.isEmpty)
            #expect(!query.sql.contains("\\\n"), "line continuation left in \(query.name)")
        }
    }

    @Test func osxAttacksKeepsContinuationIndentationInsideTheString() throws {
        let pack = try OsqueryPackImporter.parse(data: fixture("osx-attacks"), packName: "osx-attacks")
        #expect(pack.platform == "darwin")
        let wireLurker = try #require(pack.queries.first { $0.name == "WireLurker" })
        // osquery removes only the backslash and newline; the next line's indentation stays.
        #expect(wireLurker.sql.hasPrefix("select * from launchd where         name = 'com.apple.machook_damon.plist' OR"))
        #expect(wireLurker.sql.hasSuffix("name = 'com.apple.periodic-dd-mm-yy.plist';"))
        #expect(wireLurker.interval == 3600)
        #expect(wireLurker.logging == .differential)
        #expect(wireLurker.description == "(https://github.com/PaloAltoNetworks-BD/WireLurkerDetector)\n\nArtifact used by this malware")
    }

    @Test func osqueryMonitoringFieldsMapAsOsqueryReadsThem() throws {
        let pack = try OsqueryPackImporter.parse(data: fixture("osquery-monitoring"), packName: "osquery-monitoring")
        let schedule = try #require(pack.queries.first { $0.name == "schedule" })
        #expect(schedule.interval == 7200)
        #expect(schedule.logging == .differentialIgnoreRemovals)
        #expect(schedule.denylist == false)
        #expect(schedule.minOsqueryVersion == "2.11.0")
        #expect(schedule.description == "Report performance for every query within packs and the general schedule.")
    }

    @Test func packLevelFields() throws {
        let ossec = try OsqueryPackImporter.parse(data: fixture("ossec-rootkit"), packName: "ossec-rootkit")
        #expect(ossec.platform == "linux")
        #expect(ossec.minOsqueryVersion == "1.4.5")
        let chrome = try OsqueryPackImporter.parse(
            data: fixture("unwanted-chrome-extensions"), packName: "unwanted-chrome-extensions")
        #expect(chrome.platform == "windows,darwin")
        let hardening = try OsqueryPackImporter.parse(data: fixture("windows-hardening"), packName: "windows-hardening")
        #expect(hardening.queries.filter { $0.logging == .snapshot }.count == 36)
    }

    // MARK: Field conversions

    @Test func intervalAcceptsNumbersAndNumericStrings() throws {
        let pack = try parse(#"{"queries": {"a": {"query": "SELECT 1", "interval": "60"}, "b": {"query": "SELECT 1", "interval": 604800}, "c": {"query": "SELECT 1"}}}"#)
        #expect(pack.queries.map(\.interval) == [60, 604_800, 3600])
    }

    @Test(arguments: [
        (#""abc""#, #"query "q": interval "abc" is not a number"#),
        ("0", "query \"q\": interval 0 is out of range (1…604800)"),
        ("604801", "query \"q\": interval 604801 is out of range (1…604800)"),
        ("-5", "query \"q\": interval -5 is out of range (1…604800)"),
        ("1.5", "query \"q\": interval 1.5 is not a whole number of seconds"),
        (#""""#, #"query "q": interval "" is not a number"#),
    ])
    func badIntervalsAreReportedPrecisely(value: String, message: String) {
        let error = #expect(throws: OsqueryPackImportError.self) {
            try parse(#"{"queries": {"q": {"query": "SELECT 1", "interval": \#(value)}}}"#)
        }
        #expect(error?.message == message)
        #expect(error?.queryName == "q")
        #expect(error?.field == "interval")
    }

    @Test(arguments: [
        ("true", "null", LoggingType.snapshot),
        (#""T""#, "true", .snapshot),
        (#""t""#, "false", .snapshot),
        ("1", "true", .snapshot),
        ("false", "false", .differentialIgnoreRemovals),
        (#""yes""#, #""false""#, .differentialIgnoreRemovals),  // osquery: only "true"/"t" are true
        ("0", "0", .differentialIgnoreRemovals),
        ("0", #""TRUE""#, .differential),
        ("false", "1", .differential),
    ])
    func snapshotAndRemovedMapToLogging(snapshot: String, removed: String, expected: LoggingType) throws {
        let pack = try parse(#"{"queries": {"q": {"query": "SELECT 1", "snapshot": \#(snapshot), "removed": \#(removed)}}}"#)
        #expect(pack.queries[0].logging == expected)
    }

    @Test func missingSnapshotAndRemovedIsDifferential() throws {
        #expect(try parse(#"{"queries": {"q": {"query": "SELECT 1"}}}"#).queries[0].logging == .differential)
    }

    @Test func shardVersionPlatformAndDiscovery() throws {
        let pack = try parse(
            #"""
            {"platform": "posix", "version": 2.1, "shard": "10", "discovery": ["SELECT 1 FROM os_version"],
             "description": "demo",
             "queries": {"q": {"query": "SELECT 1", "shard": 50, "version": "5.2.0", "platform": "darwin",
                               "description": "what", "value": "why"},
                         "r": {"query": "SELECT 1", "shard": 0}}}
            """#)
        #expect(pack.platform == "posix")
        #expect(pack.minOsqueryVersion == "2.1")
        #expect(pack.shard == 10)
        #expect(pack.discovery == ["SELECT 1 FROM os_version"])
        #expect(pack.description == "demo")
        let q = pack.queries[0]
        #expect(q.shard == 50)
        #expect(q.minOsqueryVersion == "5.2.0")
        #expect(q.platform == "darwin")
        #expect(q.description == "what\n\nwhy")
        #expect(pack.queries[1].shard == nil)
    }

    @Test(arguments: [
        (#"{"queries": {"q": {"query": "SELECT 1", "shard": 101}}}"#, #"query "q": shard 101 is out of range (1…100)"#),
        (#"{"queries": {"q": {"interval": 10}}}"#, #"query "q": "query" is missing"#),
        (#"{"queries": {"q": {"query": 42}}}"#, #"query "q": "query" must be a string, not 42"#),
        (#"{"queries": {"q": {"query": "  "}}}"#, #"query "q": "query" is empty"#),
        (#"{"queries": {"q": {"query": "SELECT 1", "platform": 3}}}"#, #"query "q": platform must be a string, not 3"#),
        (#"{"queries": {"q": {"query": "SELECT 1", "snapshot": []}}}"#, #"query "q": snapshot must be a boolean, not an array"#),
        (#"{"queries": {"q": "SELECT 1"}}"#, #"query "q": must be an object"#),
        (#"{"queries": {"x_counter": {"query": "SELECT 1"}}}"#,
         #"query "x_counter": the name ends with "counter", which osquery reserves; osquery would skip this query"#),
        (#"{"queries": []}"#, #"pack "test": "queries" must be an object of named queries"#),
        (#"{}"#, #"pack "test": "queries" must be an object of named queries"#),
        (#"[1]"#, #"pack "test": the file must hold a JSON object"#),
        (#"{"discovery": "SELECT 1", "queries": {}}"#,
         #"pack "test": discovery must be an array of SQL strings, not "SELECT 1""#),
    ])
    func malformedFilesAreReportedPrecisely(json: String, message: String) {
        let error = #expect(throws: OsqueryPackImportError.self) { try parse(json) }
        #expect(error?.message == message)
    }

    @Test func invalidJSONNamesThePack() {
        let error = #expect(throws: OsqueryPackImportError.self) { try parse(#"{"queries": {"#, name: "broken") }
        #expect(error?.message.hasPrefix("pack \"broken\": not valid JSON") == true)
    }

    // MARK: Comment stripping

    @Test func stripConfigCommentsMatchesOsquery() {
        let input = "{\n  # a comment\n  // another\n  \"a\": \"x \\\n   y\",\r\n\n   \"b\": 1 \n}"
        #expect(OsqueryPackImporter.stripConfigComments(input) == "{\n\"a\": \"x    y\",\n\"b\": 1\n}\n")
        // Two backslashes before a newline: only one pair is removed, nothing is rescanned.
        #expect(OsqueryPackImporter.stripConfigComments("a\\\\\nb") == "a\\b\n")
        // A backslash before CRLF is not a continuation for osquery.
        #expect(OsqueryPackImporter.stripConfigComments("a\\\r\nb") == "a\\\nb\n")
    }

    @Test func commentedCRLFFileImports() throws {
        let json = "{\r\n  # packs may carry comments\r\n  \"queries\": {\r\n    \"q\": {\"query\": \"SELECT \\\n 1\"}\r\n  }\r\n}\r\n"
        let pack = try parse(json)
        #expect(pack.queries[0].sql == "SELECT  1")
    }

    // MARK: Import with validation

    @Test func importPackSplitsValidFromInvalidQueries() throws {
        let checker = RecordingChecker(failure: .unknownTable("nope"))
        let result = try OsqueryPackImporter.importPack(
            data: Data(#"{"discovery": ["SELECT 1"], "queries": {"a": {"query": "SELECT * FROM nope"}}}"#.utf8),
            packName: "p", validator: QueryValidator(checker: checker))
        #expect(result.pack.queries.count == 1)
        #expect(result.problems["a"]?.code == .unknownTable)
        #expect(result.validPack.queries.isEmpty)
        #expect(result.validPack.discovery == ["SELECT 1"])
        #expect(result.warnings == ["query \"a\": no such table: nope", "discovery query 1: no such table: nope"])
    }
}
