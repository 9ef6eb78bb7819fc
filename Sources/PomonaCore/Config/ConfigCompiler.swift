import Foundation

/// Everything the osquery config for one kind of host is built from.
public struct ConfigSources: Sendable, Equatable {
    public var agentOptions: AgentOptions
    /// Option names ever served to agents. osquery keeps options it was once given, so a name in
    /// here that is no longer set is sent again with osquery's default (spec §3.4).
    public var servedOptionNames: Set<String>
    /// The global schedule, served as pack `Global` (results named `pack/Global/<name>`).
    public var globalQueries: [ScheduledQuery]
    /// Imported or legacy packs, served under their own names.
    public var packs: [QueryPack]

    public init(agentOptions: AgentOptions, servedOptionNames: Set<String> = [], globalQueries: [ScheduledQuery], packs: [QueryPack]) {
        self.agentOptions = agentOptions
        self.servedOptionNames = servedOptionNames
        self.globalQueries = globalQueries
        self.packs = packs
    }
}

/// Builds the exact bytes of an osquery config document.
///
/// Output is compact and deterministic (members in a fixed order), so the same sources always give
/// the same bytes and osquery's "config unchanged" check (a SHA-1 of the text, spec §3.1) holds: the
/// agent does not re-apply its schedule on every refresh.
public enum ConfigCompiler {
    /// osquery ≤ 5.23.1 rejects a config whose compact text is larger than 1 MiB.
    public static let maximumSize = 1024 * 1024
    public static let globalPackName = "Global"

    public struct TooLarge: Error, CustomStringConvertible, Sendable {
        public let size: Int
        public var description: String { "compiled config is \(size) bytes; osquery rejects configs over \(ConfigCompiler.maximumSize) bytes" }
    }

    /// The config for hosts of `platform` (`nil` while the platform is not yet known: every query).
    public static func compile(_ sources: ConfigSources, platform: OsqueryPlatform?) throws(TooLarge) -> [UInt8] {
        var members: [(String, JSONValue)] = []
        var hadOptions = false
        for (key, value) in sources.agentOptions.config.objectMembers ?? [] {
            if key == "options" {
                hadOptions = true
                members.append(("options", .object(effectiveOptions(sources))))
            } else {
                members.append((key, value))
            }
        }
        if !hadOptions {
            let options = effectiveOptions(sources)
            if !options.isEmpty { members.insert(("options", .object(options)), at: 0) }
        }

        var packs: [(String, JSONValue)] = []
        let global = sources.globalQueries.filter { $0.interval > 0 && applies($0.platform, to: platform) }
        if !global.isEmpty {
            packs.append((globalPackName, .object([("queries", .object(global.map { ($0.name, queryObject($0)) }))])))
        }
        for pack in sources.packs where !pack.disabled && applies(pack.platform, to: platform) {
            let queries = pack.queries.filter { $0.interval > 0 && applies($0.platform, to: platform) }
            if queries.isEmpty { continue }
            var packMembers: [(String, JSONValue)] = []
            if !pack.platform.isEmpty { packMembers.append(("platform", .string(pack.platform))) }
            if let version = pack.minOsqueryVersion { packMembers.append(("version", .string(version))) }
            if let shard = pack.shard { packMembers.append(("shard", .number(String(shard)))) }
            if !pack.discovery.isEmpty { packMembers.append(("discovery", .array(pack.discovery.map(JSONValue.string)))) }
            packMembers.append(("queries", .object(queries.map { ($0.name, queryObject($0)) })))
            packs.append((pack.name, .object(packMembers)))
        }
        members.append(("packs", .object(packs)))

        let bytes = JSONValue.object(members).encoded()
        if bytes.count > maximumSize { throw TooLarge(size: bytes.count) }
        return bytes
    }

    /// Configured options, plus osquery's default for every option served before and removed since.
    static func effectiveOptions(_ sources: ConfigSources) -> [(String, JSONValue)] {
        var options = sources.agentOptions.options
        let set = Set(options.map(\.0))
        for name in sources.servedOptionNames.sorted() where !set.contains(name) {
            if let defaultValue = OsqueryFlags.defaults[name], defaultValue != .string("") {
                options.append((name, defaultValue))
            }
        }
        return options
    }

    /// Whether a query or pack with this platform filter can run on `platform`.
    static func applies(_ filter: String, to platform: OsqueryPlatform?) -> Bool {
        guard let platform else { return true }
        return (OsqueryPlatform.parseFilter(filter) ?? Set(OsqueryPlatform.allCases)).contains(platform)
    }

    /// One osquery query object (spec §3.3), with logging type mapped as Fleet does.
    static func queryObject(_ query: ScheduledQuery) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("query", .string(query.sql)),
            ("interval", .number(String(query.interval))),
        ]
        if !query.platform.isEmpty { members.append(("platform", .string(query.platform))) }
        if let version = query.minOsqueryVersion, !version.isEmpty { members.append(("version", .string(version))) }
        if let shard = query.shard { members.append(("shard", .number(String(shard)))) }
        switch query.logging {
        case .snapshot: members.append(("snapshot", .bool(true)))
        case .differential: members.append(("removed", .bool(true)))
        case .differentialIgnoreRemovals: members.append(("removed", .bool(false)))
        }
        if !query.denylist { members.append(("denylist", .bool(false))) }
        return .object(members)
    }
}
