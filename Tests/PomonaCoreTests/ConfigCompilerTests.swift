import Foundation
import Testing

@testable import PomonaCore

@Suite struct ConfigCompilerTests {
    let apps = ScheduledQuery(name: "apps", sql: "SELECT name FROM apps;", interval: 86400, platform: "darwin", logging: .snapshot)
    let users = ScheduledQuery(name: "users", sql: "SELECT * FROM users;", interval: 900, logging: .differentialIgnoreRemovals, denylist: false)
    let unscheduled = ScheduledQuery(name: "saved", sql: "SELECT 1;", interval: 0)

    func compile(_ sources: ConfigSources, _ platform: OsqueryPlatform?) throws -> JSONValue {
        try JSONValue.parse(try ConfigCompiler.compile(sources, platform: platform))
    }

    @Test func servesGlobalPackWithFleetLoggingKeys() throws {
        let config = try compile(ConfigSources(agentOptions: .default, globalQueries: [apps, users, unscheduled], packs: []), .darwin)
        let queries = try #require(config["packs"]?["Global"]?["queries"])
        #expect(queries["apps"]?["snapshot"] == .bool(true))
        #expect(queries["apps"]?["interval"] == .number("86400"))
        #expect(queries["users"]?["removed"] == .bool(false))
        #expect(queries["users"]?["denylist"] == .bool(false))
        #expect(queries["saved"] == nil, "interval 0 means not scheduled")
        #expect(config["options"]?["pack_delimiter"]?.stringValue == "/")
        #expect(config["decorators"]?["load"]?.arrayValue?.count == 2)
        #expect(config["error"] == nil && config["node_invalid"] == nil)
    }

    @Test func filtersByPlatform() throws {
        let linux = try compile(ConfigSources(agentOptions: .default, globalQueries: [apps, users], packs: []), .linux)
        #expect(linux["packs"]?["Global"]?["queries"]?["apps"] == nil)
        #expect(linux["packs"]?["Global"]?["queries"]?["users"] != nil)
        let unknown = try compile(ConfigSources(agentOptions: .default, globalQueries: [apps, users], packs: []), nil)
        #expect(unknown["packs"]?["Global"]?["queries"]?["apps"] != nil, "unknown platform: the agent filters itself")
    }

    @Test func servesImportedPacksWithDiscoveryAndShard() throws {
        let pack = QueryPack(
            name: "incident-response", platform: "posix", shard: 50, discovery: ["SELECT 1 FROM osquery_info;"],
            queries: [ScheduledQuery(name: "crontab", sql: "select * from crontab;", interval: 3600, platform: "posix", logging: .differential)])
        let config = try compile(ConfigSources(agentOptions: .default, globalQueries: [], packs: [pack]), .darwin)
        let served = try #require(config["packs"]?["incident-response"])
        #expect(served["shard"] == .number("50"))
        #expect(served["discovery"]?.arrayValue?.count == 1)
        #expect(served["queries"]?["crontab"]?["removed"] == .bool(true))
        let windows = try compile(ConfigSources(agentOptions: .default, globalQueries: [], packs: [pack]), .windows)
        #expect(windows["packs"]?["incident-response"] == nil)
    }

    @Test func removedOptionIsResetToOsqueryDefault() throws {
        var sources = ConfigSources(agentOptions: .default, servedOptionNames: ["logger_tls_compress", "custom_x"], globalQueries: [], packs: [])
        let config = try compile(sources, .linux)
        #expect(config["options"]?["logger_tls_compress"] == .bool(false))
        #expect(config["options"]?["custom_x"] == nil, "no known default: nothing to send")
        sources.servedOptionNames = []
        #expect(try compile(sources, .linux)["options"]?["logger_tls_compress"] == nil)
    }

    @Test func outputIsDeterministic() throws {
        let sources = ConfigSources(agentOptions: .default, globalQueries: [apps, users], packs: [])
        #expect(try ConfigCompiler.compile(sources, platform: .darwin) == ConfigCompiler.compile(sources, platform: .darwin))
    }

    @Test func refusesConfigsOsqueryWouldReject() throws {
        let big = (0..<3000).map { ScheduledQuery(name: "q\($0)", sql: String(repeating: "x", count: 400), interval: 60) }
        #expect(throws: ConfigCompiler.TooLarge.self) {
            try ConfigCompiler.compile(ConfigSources(agentOptions: .default, globalQueries: big, packs: []), platform: .linux)
        }
    }
}

@Suite struct AgentOptionsTests {
    func options(_ json: String) throws -> AgentOptions { try AgentOptions(config: try JSONValue.parse(Array(json.utf8))) }

    @Test func defaultsAreValid() {
        #expect(AgentOptions.default.options.contains { $0.0 == "distributed_interval" })
    }

    @Test(arguments: [
        (#"{"options":{"distributed_interval":10.5}}"#, "not an integer"),
        (#"{"options":{"logger_path":""}}"#, "empty strings"),
        (#"{"options":{"watchdog_level":1}}"#, "CLI-only"),
        (#"{"options":{"no_such_flag":1}}"#, "unknown osquery option"),
        (#"{"schedule":{}}"#, "managed by Pomona"),
        (#"{"error":{}}"#, "must not appear"),
        (#"{"file_paths":"x"}"#, "object or an array"),
        (#"[]"#, "must be a JSON object"),
    ])
    func rejectsWhatOsqueryWouldMishandle(_ json: String, _ expected: String) {
        #expect {
            try options(json)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func acceptsCustomAndKnownOptions() throws {
        let o = try options(#"{"options":{"custom_team":"blue","logger_tls_compress":true},"file_paths":{"etc":["/etc/%%"]}}"#)
        #expect(o.options.count == 2)
    }
}
