/// Limits how many events (or bytes) pass per key per time window, with file.d's semantics, and
/// reports what it dropped.
///
/// ```yaml
/// - type: throttle
///   name: per-host-query
///   key: [hostIdentifier, name]   # fields making the limiter key (file.d: throttle_field); absent = one key
///   bucket_interval: 1m           # window length; windows are aligned to the epoch
///   buckets_count: 60             # how many windows back an event may still be charged to its own window
///   default_limit: 5000           # per key per window; -1 = unlimited, 0 = drop everything
///   limit_kind: count             # or size (bytes of the event as it reaches this stage)
///   time_field: unixTime          # optional; default: the event time (unixTime, calendarTime, receive time)
///   rules:                        # first match wins; the default limit applies when none matches
///     - name: noisy-software-inventory
///       when: { field: name, prefix: pack_inventory_ }
///       limit: 100
///     - conditions: { name: pack_it_processes }   # file.d style: field = value, all must hold
///       limit: 1048576
///       limit_kind: size
///   summaries: true               # emit a pomona:throttle_summary event per key and window with drops
///   max_keys: 100000              # bound on live limiter keys
/// ```
///
/// The algorithm is file.d's (pipeline spec §2.2): a window id is `floor(time / bucket_interval)`;
/// the limiter for (rule, key) keeps the last `buckets_count` windows up to *now*; an event is
/// charged to the window of its own time, or to the current window when its time is older than
/// that or in the future; the charge is added first and the event passes iff the window's total is
/// ≤ limit. Windows are not summed, so up to 2× the limit can pass across a window boundary.
public struct ThrottleConfiguration: Sendable {
    public enum LimitKind: String, Sendable, Decodable {
        case count, size
    }

    public struct Rule: Sendable {
        public var name: String
        public var condition: Condition?
        public var limit: Int64
        public var limitKind: LimitKind?

        public init(name: String, condition: Condition?, limit: Int64, limitKind: LimitKind? = nil) {
            self.name = name
            self.condition = condition
            self.limit = limit
            self.limitKind = limitKind
        }
    }

    public var name: String
    public var key: [FieldPath]
    public var timeField: FieldPath?
    public var bucketInterval: Double
    public var bucketsCount: Int
    public var defaultLimit: Int64
    public var limitKind: LimitKind
    public var rules: [Rule]
    public var summaries: Bool
    public var maxKeys: Int

    public init(name: String = "throttle", key: [FieldPath] = [], timeField: FieldPath? = nil, bucketInterval: Double = 60,
                bucketsCount: Int = 60, defaultLimit: Int64 = 5000, limitKind: LimitKind = .count, rules: [Rule] = [],
                summaries: Bool = true, maxKeys: Int = 100_000) {
        self.name = name
        self.key = key
        self.timeField = timeField
        self.bucketInterval = bucketInterval
        self.bucketsCount = bucketsCount
        self.defaultLimit = defaultLimit
        self.limitKind = limitKind
        self.rules = rules
        self.summaries = summaries
        self.maxKeys = maxKeys
    }

    /// The rule deciding for `event`: the first whose condition holds, else the default rule
    /// (index `rules.count`, named `default`).
    func rule(for event: inout EventDraft) -> (index: Int, name: String, limit: Int64, kind: LimitKind) {
        for (index, rule) in rules.enumerated() where rule.condition?.matches(&event) ?? true {
            return (index, rule.name, rule.limit, rule.limitKind ?? limitKind)
        }
        return (rules.count, "default", defaultLimit, limitKind)
    }
}

extension ThrottleConfiguration: Decodable {
    enum Keys: String, CodingKey, CaseIterable {
        case type, name, key, throttle_field, time_field, bucket_interval, buckets_count, default_limit, limit_kind, rules,
            summaries, max_keys
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Keys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: Keys.self)
        self.init()
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        if c.contains(.key) && c.contains(.throttle_field) {
            throw c.configError(.throttle_field, "give either key or throttle_field, not both")
        }
        if c.contains(.key) { key = try c.decodeFieldPaths(.key) }
        if c.contains(.throttle_field) { key = try c.decodeFieldPaths(.throttle_field) }
        if c.contains(.time_field) { timeField = try c.decodeFieldPath(.time_field) }
        if c.contains(.bucket_interval) { bucketInterval = try c.decodeDuration(.bucket_interval) }
        if let count = try c.decodeIfPresent(Int.self, forKey: .buckets_count) {
            guard (1...100_000).contains(count) else { throw c.configError(.buckets_count, "must be between 1 and 100000") }
            bucketsCount = count
        }
        if let limit = try c.decodeIfPresent(Int64.self, forKey: .default_limit) { defaultLimit = limit }
        if let kind = try c.decodeIfPresent(String.self, forKey: .limit_kind) {
            guard let parsed = LimitKind(rawValue: kind) else { throw c.configError(.limit_kind, "\"\(kind)\" is not count or size") }
            limitKind = parsed
        }
        rules = try c.decodeIfPresent([Rule].self, forKey: .rules) ?? []
        for index in rules.indices where rules[index].name.isEmpty { rules[index].name = "rule\(index + 1)" }
        let names = rules.map(\.name)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 || name == "default" }) {
            throw c.configError(.rules, "rule name \"\(duplicate)\" is used twice (\"default\" is the name of the default rule)")
        }
        summaries = try c.decodeIfPresent(Bool.self, forKey: .summaries) ?? true
        if let maxKeys = try c.decodeIfPresent(Int.self, forKey: .max_keys) {
            guard maxKeys >= 1 else { throw c.configError(.max_keys, "must be at least 1") }
            self.maxKeys = maxKeys
        }
    }
}

extension ThrottleConfiguration.Rule: Decodable {
    enum Keys: String, CodingKey { case name, when, conditions, limit, limit_kind }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["name", "when", "conditions", "limit", "limit_kind"])
        let c = try decoder.container(keyedBy: Keys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        guard c.contains(.limit) else { throw decoder.configError("a throttle rule needs \"limit\"") }
        limit = try c.decode(Int64.self, forKey: .limit)
        if let kind = try c.decodeIfPresent(String.self, forKey: .limit_kind) {
            guard let parsed = ThrottleConfiguration.LimitKind(rawValue: kind) else {
                throw c.configError(.limit_kind, "\"\(kind)\" is not count or size")
            }
            limitKind = parsed
        }
        var parts: [Condition] = []
        if c.contains(.when) { parts.append(try c.decode(Condition.self, forKey: .when)) }
        if c.contains(.conditions) {
            // file.d's form: every field must equal its value (as text).
            let map = try c.decode([String: ScalarText].self, forKey: .conditions)
            for (field, value) in map.sorted(by: { $0.key < $1.key }) {
                do { parts.append(.equals(try FieldPath(field), value.text)) } catch {
                    throw c.configError(.conditions, error.description)
                }
            }
        }
        guard !parts.isEmpty else {
            throw decoder.configError("a throttle rule needs \"when\" or \"conditions\" (the default limit covers everything else)")
        }
        condition = parts.count == 1 ? parts[0] : .all(parts)
    }
}

/// A YAML scalar read as text (`42`, `"42"`, `true`).
struct ScalarText: Decodable {
    var text: String
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { text = s; return }
        if let i = try? c.decode(Int64.self) { text = String(i); return }
        if let b = try? c.decode(Bool.self) { text = b ? "true" : "false"; return }
        text = String(try c.decode(Double.self))
    }
}
