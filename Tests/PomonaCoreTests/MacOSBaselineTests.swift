import PomonaCore
import Testing

@Suite("MacOSBaseline")
struct MacOSBaselineTests {
    @Test func queriesAreWellFormed() {
        let queries = MacOSBaseline.queries
        #expect(queries.count == 12)
        #expect(Set(queries.map(\.name)).count == queries.count)
        for query in queries {
            #expect(query.platform == "darwin", "\(query.name)")
            #expect(!query.description.isEmpty, "\(query.name)")
            #expect((1...604_800).contains(query.interval), "\(query.name)")
            #expect(!query.sql.uppercased().contains("SELECT *"), "\(query.name) should name its columns")
        }
    }

    @Test(arguments: [
        ("apps", LoggingType.snapshot, 86400), ("shell_history", .differential, 900),
        ("interface_details", .snapshot, 86400), ("network_connections", .differential, 3600),
        ("process_events", .differential, 3600), ("startup_items", .differential, 900),
        ("crontab", .differential, 900), ("logged_in_users", .snapshot, 3600),
        ("disk_encryption", .snapshot, 86400), ("sip_config", .snapshot, 86400),
        ("gatekeeper", .snapshot, 86400), ("alf", .snapshot, 86400),
    ])
    func schedule(name: String, logging: LoggingType, interval: Int) throws {
        let query = try #require(MacOSBaseline.queries.first { $0.name == name })
        #expect(query.logging == logging)
        #expect(query.interval == interval)
    }

    @Test func agentFlagsForProcessEvents() {
        #expect(MacOSBaseline.requiredAgentOptions["disable_audit"] == "false")
        #expect(MacOSBaseline.flagfileLines == [
            "--audit_allow_config=true", "--audit_allow_process_events=true", "--disable_audit=false",
            "--disable_events=false",
        ])
        #expect(MacOSBaseline.pack.platform == "darwin")
        #expect(MacOSBaseline.pack.queries == MacOSBaseline.queries)
    }
}
