import Synchronization

/// Collects request latencies and outcomes per endpoint; shared by every simulated agent.
///
/// Concurrency contract: a `LatencyRecorder` is a reference type guarded by one `Mutex`, so any
/// number of agents on any threads may call ``record(_:duration:success:)`` at once. Recording is
/// an append under the lock; percentiles are computed only when ``summary()`` is asked for.
///
/// Samples recorded after ``beginSteadyState()`` are also kept apart, for ``steadySummary()``:
/// a capacity figure is about an enrolled fleet checking in, and the enrollment storm before it
/// (handshakes, inserts, a saturated machine) would otherwise dominate every tail percentile.
///
/// ```swift
/// let recorder = LatencyRecorder()
/// recorder.record(.config, duration: .milliseconds(12), success: true)
/// recorder.summary()[.config]?.p99
/// ```
public final class LatencyRecorder: Sendable {
    /// Per-endpoint statistics at one moment.
    public struct Summary: Sendable, Equatable {
        /// Number of requests recorded, successes and failures.
        public var count: Int
        /// Requests judged failures (``AgentResponseJudgement/isSuccess`` false, transport errors included).
        public var errors: Int
        public var p50: Duration
        public var p90: Duration
        public var p99: Duration
        public var max: Duration
    }

    private struct Samples {
        var durations: [AgentRequestKind: [Duration]] = [:]
        var errors: [AgentRequestKind: Int] = [:]
        var count = 0
        var errorCount = 0

        mutating func add(_ kind: AgentRequestKind, _ duration: Duration, success: Bool) {
            durations[kind, default: []].append(duration)
            count += 1
            if !success {
                errors[kind, default: 0] += 1
                errorCount += 1
            }
        }
    }

    private struct State {
        var all = Samples()
        /// Set by ``beginSteadyState()``.
        var steady: Samples?
    }

    private let state = Mutex(State())

    /// Creates an empty recorder.
    public init() {}

    /// Records one request.
    public func record(_ kind: AgentRequestKind, duration: Duration, success: Bool) {
        state.withLock { state in
            state.all.add(kind, duration, success: success)
            state.steady?.add(kind, duration, success: success)
        }
    }

    /// Requests and errors so far, every endpoint (cheap: no sorting, for progress lines).
    public func totals() -> (requests: Int, errors: Int) {
        state.withLock { ($0.all.count, $0.all.errorCount) }
    }

    /// From now on, samples also count towards ``steadySummary()``. Calling it again restarts
    /// the steady window.
    public func beginSteadyState() {
        state.withLock { $0.steady = Samples() }
    }

    /// Statistics for every endpoint that has at least one sample.
    public func summary() -> [AgentRequestKind: Summary] {
        // Copy under the lock, sort outside it, so recording agents are never blocked by a sort.
        Self.summarize(state.withLock { $0.all })
    }

    /// Statistics of the samples recorded since ``beginSteadyState()``, or nil before it.
    public func steadySummary() -> [AgentRequestKind: Summary]? {
        state.withLock { $0.steady }.map(Self.summarize)
    }

    private static func summarize(_ snapshot: Samples) -> [AgentRequestKind: Summary] {
        var result: [AgentRequestKind: Summary] = [:]
        for (kind, samples) in snapshot.durations where !samples.isEmpty {
            let sorted = samples.sorted()
            result[kind] = Summary(
                count: sorted.count,
                errors: snapshot.errors[kind] ?? 0,
                p50: Self.percentile(sorted, 0.50),
                p90: Self.percentile(sorted, 0.90),
                p99: Self.percentile(sorted, 0.99),
                max: sorted[sorted.count - 1]
            )
        }
        return result
    }

    /// Forgets every sample (e.g. after a warm-up phase).
    public func reset() {
        state.withLock { $0 = State() }
    }

    /// Nearest-rank percentile of an ascending, non-empty array.
    static func percentile(_ sorted: [Duration], _ fraction: Double) -> Duration {
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
