import Foundation

/// A label or policy query as check-ins hand it out: the id it is reported under, its SQL and
/// the osquery platform filter that decides which hosts run it.
public struct HostEvaluationQuery: Sendable, Equatable {
    public var id: Int64
    public var sql: String
    /// osquery platform filter (`""` = every host; `"darwin"`, `"ubuntu"`, `"windows,darwin"`…).
    public var platform: String

    public init(id: Int64, sql: String, platform: String) {
        self.id = id
        self.sql = sql
        self.platform = platform
    }
}

/// The dynamic-label and policy queries, precompiled per platform for the check-in path.
///
/// Built once whenever labels or policies change (never per read), so handing them to a host is
/// a dictionary lookup that returns a shared array. A host whose platform is not known yet gets
/// every query: the built-in labels check the platform in their own SQL, and a query on a table
/// the host lacks fails, which leaves membership unchanged (labels) or unknown (policies).
public struct HostEvaluationQueries: Sendable {
    public static let labelPrefix = "fleet_label_query_"
    public static let policyPrefix = "fleet_policy_query_"

    /// `[name, sql]` pairs per platform; the `nil` key is "platform unknown".
    let labelsByPlatform: [OsqueryPlatform?: [(String, String)]]
    let policiesByPlatform: [OsqueryPlatform?: [(String, String)]]
    /// When a dynamic label last changed: hosts that evaluated labels before this get them again.
    public let labelsChangedAt: Date
    /// When a policy last changed: hosts that evaluated policies before this get them again.
    public let policiesChangedAt: Date

    public static let empty = HostEvaluationQueries(labels: [], policies: [])

    public init(labels: [HostEvaluationQuery], policies: [HostEvaluationQuery], labelsChangedAt: Date = .distantPast, policiesChangedAt: Date = .distantPast) {
        labelsByPlatform = Self.compile(labels, prefix: Self.labelPrefix)
        policiesByPlatform = Self.compile(policies, prefix: Self.policyPrefix)
        self.labelsChangedAt = labelsChangedAt
        self.policiesChangedAt = policiesChangedAt
    }

    static func compile(_ queries: [HostEvaluationQuery], prefix: String) -> [OsqueryPlatform?: [(String, String)]] {
        var out: [OsqueryPlatform?: [(String, String)]] = [nil: []]
        for platform in OsqueryPlatform.allCases { out[platform] = [] }
        // Sorted by id so a read's order is stable (osquery runs them in name order anyway).
        for query in queries.sorted(by: { $0.id < $1.id }) where !query.sql.isEmpty {
            let entry = (prefix + String(query.id), query.sql)
            out[nil]!.append(entry)
            // An unparseable filter selects nothing rather than everything: a typo should not
            // send a query to hosts it was not meant for.
            for platform in OsqueryPlatform.parseFilter(query.platform) ?? [] { out[platform]!.append(entry) }
        }
        return out
    }

    public func labelQueries(for platform: OsqueryPlatform?) -> [(String, String)] { labelsByPlatform[platform] ?? [] }
    public func policyQueries(for platform: OsqueryPlatform?) -> [(String, String)] { policiesByPlatform[platform] ?? [] }

    public var labelCount: Int { labelsByPlatform[nil]?.count ?? 0 }
    public var policyCount: Int { policiesByPlatform[nil]?.count ?? 0 }

    /// The label id in a `fleet_label_query_<id>` name, or `nil` for any other name.
    public static func labelID(distributedName name: String) -> Int64? { id(name, prefix: labelPrefix) }
    /// The policy id in a `fleet_policy_query_<id>` name, or `nil` for any other name.
    public static func policyID(distributedName name: String) -> Int64? { id(name, prefix: policyPrefix) }

    static func id(_ name: String, prefix: String) -> Int64? {
        guard name.hasPrefix(prefix) else { return nil }
        return Int64(name.dropFirst(prefix.count))
    }
}

/// What a label or policy result means (Fleet's rule): ≥1 row is true, 0 rows false, an error unknown.
public enum HostEvaluationOutcome: Sendable, Equatable {
    case yes, no, unknown

    public init(status: Int, rowCount: Int) {
        if status != 0 { self = .unknown } else { self = rowCount > 0 ? .yes : .no }
    }

    /// `true`/`false`, or `nil` when unknown.
    public var boolValue: Bool? {
        switch self {
        case .yes: true
        case .no: false
        case .unknown: nil
        }
    }
}
