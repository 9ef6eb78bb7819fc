/// What became of one output's share of the events from one input, in events and bytes.
///
/// The invariant every test checks, per output and input:
/// `received = forwarded + filtered + throttled + dead_lettered + dropped + still_spooled`.
/// `unrouted` (no route sends the event to this output) is part of `filtered`, with the reason
/// `unrouted` in the per-reason breakdown.
public struct OutcomeCounters: Sendable, Equatable, Codable {
    public var forwarded = EventTally.zero
    public var filtered = EventTally.zero
    public var throttled = EventTally.zero
    public var deadLettered = EventTally.zero
    public var dropped = EventTally.zero

    public init() {}

    public var total: EventTally { forwarded + filtered + throttled + deadLettered + dropped }

    public static func + (lhs: OutcomeCounters, rhs: OutcomeCounters) -> OutcomeCounters {
        var out = lhs
        out.forwarded += rhs.forwarded
        out.filtered += rhs.filtered
        out.throttled += rhs.throttled
        out.deadLettered += rhs.deadLettered
        out.dropped += rhs.dropped
        return out
    }

    public static func += (lhs: inout OutcomeCounters, rhs: OutcomeCounters) { lhs = lhs + rhs }

    enum CodingKeys: String, CodingKey {
        case forwarded, filtered, throttled
        case deadLettered = "dead_lettered"
        case dropped
    }
}

extension EventTally: Codable {
    enum CodingKeys: String, CodingKey { case events, bytes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(events: try c.decode(Int64.self, forKey: .events), bytes: try c.decode(Int64.self, forKey: .bytes))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(events, forKey: .events)
        try c.encode(bytes, forKey: .bytes)
    }
}

/// The outcomes of a contiguous stretch of spool positions, resolved together.
public struct ResolvedSpan: Sendable {
    /// The checkpoint once this span is committed: the position of the next event after it.
    /// Nil for batches that consumed no spool positions (throttle summaries).
    public var end: SpoolPosition?
    public var byInput: [String: OutcomeCounters]
    /// Breakdown for metrics: filter reason (`route/stage` or `unrouted`) and throttle rule.
    public var filteredBy: [String: EventTally]
    public var throttledBy: [String: EventTally]
    /// Throttle summaries delivered in this span (not spooled events; not in the balance).
    public var summariesSent: Int64

    public init(end: SpoolPosition?, byInput: [String: OutcomeCounters] = [:], filteredBy: [String: EventTally] = [:],
                throttledBy: [String: EventTally] = [:], summariesSent: Int64 = 0) {
        self.end = end
        self.byInput = byInput
        self.filteredBy = filteredBy
        self.throttledBy = throttledBy
        self.summariesSent = summariesSent
    }
}
