/// What became of one spooled event on its way to one output.
///
/// Exactly one outcome per spooled event and output, so the accounting balances in spooled
/// events: `received = forwarded + filtered + throttled + unrouted + dead-lettered + still spooled`.
public enum StageOutcome: Sendable, Equatable {
    /// Send these (one per matching route that kept the event; usually one).
    case forward([PipelineEvent])
    /// Every matching route dropped it, the first in a filter stage.
    case filtered(route: String, stage: String)
    /// Every matching route dropped it, the first in a throttle stage: `rule` for limiter `key`.
    case throttled(route: String, stage: String, rule: String, key: String)
    /// No route that targets this output matches the event.
    case unrouted

    public static func == (lhs: StageOutcome, rhs: StageOutcome) -> Bool {
        switch (lhs, rhs) {
        case (.forward(let a), .forward(let b)):
            return a.count == b.count && zip(a, b).allSatisfy {
                $0.id == $1.id && $0.sourcetype == $1.sourcetype && $0.time == $1.time && $0.host == $1.host && $0.body == $1.body
            }
        case (.filtered(let r1, let s1), .filtered(let r2, let s2)): return r1 == r2 && s1 == s2
        case (.throttled(let a, let b, let c, let d), .throttled(let e, let f, let g, let h)): return a == e && b == f && c == g && d == h
        case (.unrouted, .unrouted): return true
        default: return false
        }
    }
}

/// Counters of one output's processor, for metrics and `pomona pipeline stats`.
public struct OutputProcessorStatistics: Sendable, Equatable {
    /// Spooled events processed.
    public var processed: Int64 = 0
    /// Spooled events with outcome `forward`, and the events that made (more when routes fork).
    public var forwarded: Int64 = 0
    public var forwardedEvents: Int64 = 0
    public var unrouted: Int64 = 0
    /// Per `route/stage`: events a filter dropped in that route (also when another route forwarded them).
    public var filtered: [String: Int64] = [:]
    /// Per `route/stage/rule`: events a throttle dropped in that route.
    public var throttled: [String: Int64] = [:]
    /// Per route: events whose host was unknown to an enrich stage (passed unchanged).
    public var enrichMisses: [String: Int64] = [:]
    /// String values rewritten by masks.
    public var masked: Int64 = 0
    /// Throttle summary events emitted by `tick`.
    public var summaries: Int64 = 0
    /// Per `route/stage`: the throttle's own counters (live keys, evictions, drops per rule).
    public var throttles: [String: ThrottleState.Statistics] = [:]
}
