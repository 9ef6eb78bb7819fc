import Synchronization

/// Collects request latencies and outcomes per endpoint; shared by every simulated agent.
///
/// Concurrency contract: a `LatencyRecorder` is a reference type guarded by one `Mutex`, so any
/// number of agents on any threads may call ``record(_:duration:success:)`` at once. Recording is
/// an append under the lock; percentiles are computed only when ``summary()`` is asked for.
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

    private struct State {
        var samples: [AgentRequestKind: [Duration]] = [:]
        var errors: [AgentRequestKind: Int] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty recorder.
    public init() {}

    /// Records one request.
    public func record(_ kind: AgentRequestKind, duration: Duration, success: Bool) {
        state.withLock { state in
            state.samples[kind, default: []].append(duration)
            if !success { state.errors[kind, default: 0] += 1 }
        }
    }

    /// Statistics for every endpoint that has at least one sample.
    public func summary() -> [AgentRequestKind: Summary] {
        // Copy under the lock, sort outside it, so recording agents are never blocked by a sort.
        let snapshot = state.withLock { $0 }
        var result: [AgentRequestKind: Summary] = [:]
        for (kind, samples) in snapshot.samples where !samples.isEmpty {
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
