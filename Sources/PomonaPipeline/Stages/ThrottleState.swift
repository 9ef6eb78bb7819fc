/// The counters of one throttle stage for one output: per (rule, key) limiters, the drops not yet
/// summarised, and totals.
///
/// Memory is bounded: a limiter whose newest charged window has left the ring (`buckets_count`
/// windows back from now) holds only zeros and is removed at the next ``closeWindows(now:)`` — the
/// same outcome as file.d's `limiter_expiration`, without a separate timer; beyond `max_keys` live
/// keys the least recently charged tenth is evicted (counted in ``Statistics/evictedKeys``).
public struct ThrottleState: Sendable {
    public enum Verdict: Sendable, Equatable {
        case pass
        /// Dropped by `rule` for the limiter key `key` (its field values joined by `|`).
        case drop(rule: String, key: String)
    }

    public struct Statistics: Sendable, Equatable {
        public var passedEvents: Int64 = 0
        /// Dropped events and bytes per rule name.
        public var droppedEvents: [String: Int64] = [:]
        public var droppedBytes: [String: Int64] = [:]
        public var evictedKeys: Int64 = 0
        public var summaries: Int64 = 0
        public var liveKeys: Int = 0
    }

    struct LimiterKey: Hashable {
        var rule: Int
        var key: String
    }

    struct Window {
        var id: Int64
        var used: Int64
    }

    struct Limiter {
        var windows: [Window] = []
        var newest: Int64 = .min

        /// Adds `cost` to `window` (forgetting windows older than `oldest`); returns the window's total.
        mutating func charge(window: Int64, cost: Int64, oldest: Int64) -> Int64 {
            if let first = windows.first, first.id < oldest { windows.removeAll { $0.id < oldest } }
            newest = max(newest, window)
            for slot in windows.indices where windows[slot].id == window {
                windows[slot].used += cost
                return windows[slot].used
            }
            windows.append(Window(id: window, used: cost))
            return cost
        }
    }

    struct DropKey: Hashable {
        var rule: Int
        var key: String
        var window: Int64
    }

    struct DropRecord {
        var ruleName: String
        var limit: Int64
        var kind: ThrottleConfiguration.LimitKind
        var keyValues: [String]
        var events: Int64 = 0
        var bytes: Int64 = 0
        var query: String?
        var host: String?
    }

    public let configuration: ThrottleConfiguration
    var limiters: [LimiterKey: Limiter] = [:]
    var drops: [DropKey: DropRecord] = [:]
    /// The newest window id `now` has reached (never moves back, as file.d's ring).
    var nowWindow: Int64 = .min
    public private(set) var statistics = Statistics()

    public init(configuration: ThrottleConfiguration) {
        self.configuration = configuration
    }

    static let queryField = try! FieldPath("name")  // a literal, valid by construction
    static let hostField = try! FieldPath("hostIdentifier")  // a literal, valid by construction

    func windowID(_ time: Double) -> Int64? {
        let value = (time / configuration.bucketInterval).rounded(.down)
        guard value.isFinite, abs(value) < 1e15 else { return nil }
        return Int64(value)
    }

    /// Charges `event` to its limiter and says whether it passes.
    /// - Parameters:
    ///   - eventTime: the event's own time (picks the window).
    ///   - now: the current time (moves the ring forward).
    public mutating func admit(_ event: inout EventDraft, eventTime: Double, now: Double) -> Verdict {
        let rule = configuration.rule(for: &event)
        if rule.limit < 0 {
            statistics.passedEvents += 1
            return .pass
        }
        if let current = windowID(now), current > nowWindow { nowWindow = current }
        let oldest = nowWindow &- Int64(configuration.bucketsCount) &+ 1
        var window = windowID(configuration.timeField.flatMap { EventTime.of(&event, field: $0) } ?? eventTime) ?? nowWindow
        if window < oldest || window > nowWindow { window = nowWindow }

        var key = ""
        for (n, path) in configuration.key.enumerated() {
            if n > 0 { key += "|" }
            key += event.text(at: path) ?? ""
        }
        let limiterKey = LimiterKey(rule: rule.index, key: key)
        let cost: Int64 = rule.kind == .count ? 1 : Int64(event.byteCount)

        if limiters.count >= configuration.maxKeys, limiters[limiterKey] == nil { evict(oldest: oldest) }
        let used = limiters[limiterKey, default: Limiter()].charge(window: window, cost: cost, oldest: oldest)
        statistics.liveKeys = limiters.count

        if used <= rule.limit {
            statistics.passedEvents += 1
            return .pass
        }
        let bytes = Int64(event.byteCount)
        statistics.droppedEvents[rule.name, default: 0] += 1
        statistics.droppedBytes[rule.name, default: 0] += bytes
        if configuration.summaries {
            let dropKey = DropKey(rule: rule.index, key: key, window: window)
            let query = event.text(at: Self.queryField)
            let host = event.text(at: Self.hostField)
            var record = drops[dropKey]
                ?? DropRecord(ruleName: rule.name, limit: rule.limit, kind: rule.kind,
                              keyValues: configuration.key.map { event.text(at: $0) ?? "" }, query: query, host: host)
            // A key without the query or host can group drops of several: then the summary names neither.
            if record.query != query { record.query = nil }
            if record.host != host { record.host = nil }
            record.events += 1
            record.bytes += bytes
            drops[dropKey] = record
        }
        return .drop(rule: rule.name, key: key)
    }

    /// Removes stale limiters, then, if still at `max_keys`, the least recently charged tenth.
    mutating func evict(oldest: Int64) {
        let before = limiters.count
        limiters = limiters.filter { $0.value.newest >= oldest }
        if limiters.count >= configuration.maxKeys {
            let victims = limiters.sorted { $0.value.newest < $1.value.newest }.prefix(max(1, limiters.count / 10))
            for victim in victims { limiters.removeValue(forKey: victim.key) }
        }
        statistics.evictedKeys += Int64(before - limiters.count)
        statistics.liveKeys = limiters.count
    }

    /// The summaries of every window that has ended by `now`, and forgets them; also drops
    /// limiters that hold nothing but expired windows.
    public mutating func closeWindows(now: Double) -> [ThrottleSummary] {
        if let current = windowID(now), current > nowWindow { nowWindow = current }
        let oldest = nowWindow &- Int64(configuration.bucketsCount) &+ 1
        if limiters.contains(where: { $0.value.newest < oldest }) {
            limiters = limiters.filter { $0.value.newest >= oldest }
            statistics.liveKeys = limiters.count
        }
        var closed: [ThrottleSummary] = []
        for (key, record) in drops {
            let start = Double(key.window) * configuration.bucketInterval
            let end = start + configuration.bucketInterval
            guard end <= now else { continue }
            closed.append(ThrottleSummary(
                stage: configuration.name, rule: record.ruleName, limit: record.limit, limitKind: record.kind,
                key: zip(configuration.key.map(\.text), record.keyValues).map { ($0, $1) },
                droppedEvents: record.events, droppedBytes: record.bytes, windowStart: start, windowEnd: end,
                query: record.query, host: record.host))
            drops.removeValue(forKey: key)
        }
        statistics.summaries += Int64(closed.count)
        return closed.sorted { ($0.windowStart, $0.rule, $0.keyText) < ($1.windowStart, $1.rule, $1.keyText) }
    }
}

/// What one throttle rule dropped for one key in one window.
public struct ThrottleSummary: Sendable {
    public var stage: String
    public var rule: String
    public var limit: Int64
    public var limitKind: ThrottleConfiguration.LimitKind
    /// The key fields and their values, in configuration order.
    public var key: [(field: String, value: String)]
    public var droppedEvents: Int64
    public var droppedBytes: Int64
    public var windowStart: Double
    public var windowEnd: Double
    /// `name` and `hostIdentifier` of the dropped events (osquery's query name and host), when all
    /// of them had the same one.
    public var query: String?
    public var host: String?

    var keyText: String { key.map(\.value).joined(separator: "|") }

    /// "1200 events of query pack_it_processes from host web-01 dropped by throttle rule default
    /// between 2026-08-04T12:00:00Z and 2026-08-04T12:01:00Z (limit 5000 events per window)".
    public var message: String {
        var text = "\(droppedEvents) events"
        if let query, !query.isEmpty { text += " of query \(query)" }
        if let host, !host.isEmpty { text += " from host \(host)" }
        if (query ?? "").isEmpty && (host ?? "").isEmpty && !key.isEmpty {
            text += " with " + key.map { "\($0.field)=\($0.value)" }.joined(separator: ", ")
        }
        text += " dropped by throttle rule \(rule) between \(EventTime.iso8601(windowStart)) and \(EventTime.iso8601(windowEnd))"
        text += " (limit \(limit) \(limitKind == .count ? "events" : "bytes") per window, \(droppedBytes) bytes dropped)"
        return text
    }

    /// The summary event's JSON body.
    public func body(route: String) -> [UInt8] {
        var out: [UInt8] = []
        func member(_ name: String, _ value: String, comma: Bool = true) {
            RawJSON.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            RawJSON.appendString(value, to: &out)
            if comma { out.append(UInt8(ascii: ",")) }
        }
        func number(_ name: String, _ value: String) {
            RawJSON.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: value.utf8)
            out.append(UInt8(ascii: ","))
        }
        out.append(UInt8(ascii: "{"))
        member("event_type", "pomona.throttle_summary")
        member("route", route)
        member("stage", stage)
        member("rule", rule)
        RawJSON.appendString("key", to: &out)
        out.append(contentsOf: ":{".utf8)
        for (n, pair) in key.enumerated() { member(pair.field, pair.value, comma: n + 1 < key.count) }
        out.append(contentsOf: "},".utf8)
        if let query { member("query", query) }
        if let host { member("host_identifier", host) }
        number("limit", String(limit))
        member("limit_kind", limitKind.rawValue)
        number("dropped_events", String(droppedEvents))
        number("dropped_bytes", String(droppedBytes))
        number("window_start", Self.seconds(windowStart))
        number("window_end", Self.seconds(windowEnd))
        member("message", message, comma: false)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
