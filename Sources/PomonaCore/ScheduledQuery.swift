import Foundation

/// How the results of a scheduled query are logged (Fleet's `logging` field).
public enum LoggingType: String, Sendable, Codable, CaseIterable {
    /// Every run logs all rows (`"snapshot": true`).
    case snapshot
    /// Added and removed rows since the last run (`"removed": true`).
    case differential
    /// Added rows only (`"removed": false`).
    case differentialIgnoreRemovals = "differential_ignore_removals"
}

/// A query that osquery runs on a schedule, as Pomona stores and serves it.
///
/// `interval == 0` means "saved but not scheduled"; such queries are never put in a config.
public struct ScheduledQuery: Sendable, Equatable, Codable {
    /// Unique name; osquery reports results as `pack/<pack>/<name>`.
    public var name: String
    /// The SQL text, exactly as osquery will run it.
    public var sql: String
    public var description: String
    /// Seconds between runs, 1…604800 when scheduled; 0 when not scheduled.
    public var interval: Int
    /// osquery platform filter string (`""` = all, `"darwin"`, `"posix"`, `"windows,darwin"`).
    public var platform: String
    /// Minimum osquery version (`"5.2.0"`), or `nil`.
    public var minOsqueryVersion: String?
    /// Percentage of hosts (1…100) that run it, or `nil` for all.
    public var shard: Int?
    public var logging: LoggingType
    /// Whether osquery's watchdog may denylist the query (osquery's default: true).
    public var denylist: Bool

    public init(
        name: String, sql: String, description: String = "", interval: Int, platform: String = "",
        minOsqueryVersion: String? = nil, shard: Int? = nil, logging: LoggingType = .snapshot,
        denylist: Bool = true
    ) {
        self.name = name
        self.sql = sql
        self.description = description
        self.interval = interval
        self.platform = platform
        self.minOsqueryVersion = minOsqueryVersion
        self.shard = shard
        self.logging = logging
        self.denylist = denylist
    }

    /// The platforms this query targets (every platform when the filter is empty or unrecognised).
    public var targetPlatforms: Set<OsqueryPlatform> {
        OsqueryPlatform.parseFilter(platform) ?? Set(OsqueryPlatform.allCases)
    }
}

/// A named group of scheduled queries, as in osquery's pack files and Fleet's legacy packs.
public struct QueryPack: Sendable, Equatable, Codable {
    public var name: String
    public var description: String
    /// Pack-level platform filter (osquery applies it on top of each query's own).
    public var platform: String
    public var minOsqueryVersion: String?
    public var shard: Int?
    /// osquery runs the pack only where every discovery query returns a row.
    public var discovery: [String]
    public var queries: [ScheduledQuery]
    public var disabled: Bool
    /// The hosts the pack is served to; `nil` or empty: every host of its platform (as an osquery
    /// pack file would run).
    public var targets: PackTargets?

    public init(
        name: String, description: String = "", platform: String = "", minOsqueryVersion: String? = nil,
        shard: Int? = nil, discovery: [String] = [], queries: [ScheduledQuery], disabled: Bool = false, targets: PackTargets? = nil
    ) {
        self.name = name
        self.description = description
        self.platform = platform
        self.minOsqueryVersion = minOsqueryVersion
        self.shard = shard
        self.discovery = discovery
        self.queries = queries
        self.disabled = disabled
        self.targets = targets
    }
}

/// Fleet's pack targets: a host gets the pack when it is one of `hostIDs` or a member of any of
/// `labelIDs`. A target that no longer exists (a deleted label) matches nobody, so deleting the
/// label a pack was aimed at never widens the pack to every host.
public struct PackTargets: Sendable, Equatable, Codable {
    public var labelIDs: Set<Int64>
    public var hostIDs: Set<Int64>

    public init(labelIDs: Set<Int64> = [], hostIDs: Set<Int64> = []) {
        self.labelIDs = labelIDs
        self.hostIDs = hostIDs
    }

    public var isEmpty: Bool { labelIDs.isEmpty && hostIDs.isEmpty }

    /// Whether the host with this id and these label memberships is targeted.
    public func includes(hostID: Int64, labels: Set<Int64>) -> Bool {
        hostIDs.contains(hostID) || !labelIDs.isDisjoint(with: labels)
    }
}
