import Foundation

/// What a ``FleetSimulation`` run did: host outcomes, work done, and per-endpoint latency.
public struct FleetSimulationReport: Sendable, Equatable {
    /// Counters the host loops keep.
    public struct Counts: Sendable, Equatable {
        /// Hosts that reached their start time before the deadline.
        public var started = 0
        /// Hosts whose first enrollment succeeded.
        public var enrolled = 0
        /// Hosts that gave up enrolling (every attempt failed).
        public var enrollFailures = 0
        /// Seconds from the start of the run until the last first-enrollment succeeded (the
        /// enrollment storm's "time to done").
        public var lastEnrolledAfter: Double = 0
        /// Enroll requests after a host's first enrollment (re-enrollment after `node_invalid`).
        public var reEnrollRequests = 0
        /// Started hosts that played "slow".
        public var slow = 0
        /// Started hosts that played "dead" (enrolled, then silent).
        public var dead = 0
        /// Successful config fetches (first and refreshes).
        public var configFetches = 0
        /// Config fetches that failed after their retries.
        public var configFailures = 0
        /// Distributed loops that completed (read, and write when anything ran).
        public var distributedRuns = 0
        /// Distributed loops whose read or write failed after retries.
        public var distributedFailures = 0
        /// Queries answered and written.
        public var distributedAnswered = 0
        /// Result lines the hosts produced.
        public var resultGenerated = 0
        /// Status lines the hosts produced.
        public var statusGenerated = 0
        /// Result lines POSTed, resends included.
        public var resultSent = 0
        /// Status lines POSTed, resends included.
        public var statusSent = 0
        /// Result lines the server acknowledged.
        public var resultAcknowledged = 0
        /// Status lines the server acknowledged.
        public var statusAcknowledged = 0
        /// Log POSTs that failed (their lines stay buffered and are resent).
        public var logBatchFailures = 0

        public init() {}
    }

    /// Hosts in the simulation.
    public var hosts: Int
    /// The counters at the end.
    public var counts: Counts
    /// Latency and errors per endpoint (endpoints never used are absent).
    public var endpoints: [AgentRequestKind: LatencyRecorder.Summary]
    /// Wall-clock time of the run.
    public var elapsed: Duration
    /// Whether the run was cancelled before its deadline.
    public var cancelled: Bool
    /// The same figures for the steady state alone, when the run reached one.
    public var steady: SteadyState?

    /// Latency and load once every host had enrolled (``FleetSimulation/Options/steadySettle``
    /// later) until the deadline: what an enrolled fleet costs day to day, without the
    /// enrollment storm.
    public struct SteadyState: Sendable, Equatable {
        /// When the window began, after the start of the run.
        public var began: Duration
        /// How long it lasted.
        public var duration: Duration
        /// Latency and errors per endpoint of the requests made in the window.
        public var endpoints: [AgentRequestKind: LatencyRecorder.Summary]
        /// The fleet's distributed interval (before the speed-up), to express the load in hosts.
        public var fleetDistributedInterval: Duration
        public var speedup: Double

        /// The load as a number of hosts checking in at the fleet's distributed interval: reads
        /// per second times the interval. It falls short of hosts × speed-up when the simulator
        /// could not keep up (or hosts are slow or dead), so costs divided by it are not flattered.
        public var hostEquivalents: Double {
            let seconds = max(duration.seconds, 0.001)
            return Double(endpoints[.distributedRead]?.count ?? 0) / seconds * fleetDistributedInterval.seconds
        }
    }

    /// Creates a report.
    public init(hosts: Int, counts: Counts, endpoints: [AgentRequestKind: LatencyRecorder.Summary], elapsed: Duration, cancelled: Bool) {
        self.hosts = hosts
        self.counts = counts
        self.endpoints = endpoints
        self.elapsed = elapsed
        self.cancelled = cancelled
    }

    /// Requests made, every endpoint.
    public var totalRequests: Int { endpoints.values.reduce(0) { $0 + $1.count } }
    /// Requests judged failures, every endpoint.
    public var totalErrors: Int { endpoints.values.reduce(0) { $0 + $1.errors } }
    /// Result and status lines acknowledged.
    public var logLinesAcknowledged: Int { counts.resultAcknowledged + counts.statusAcknowledged }
    /// Result and status lines POSTed, resends included.
    public var logLinesSent: Int { counts.resultSent + counts.statusSent }
    /// Errors by endpoint (only endpoints with errors).
    public var errorsByEndpoint: [AgentRequestKind: Int] {
        endpoints.filter { $0.value.errors > 0 }.mapValues(\.errors)
    }

    /// A plain-text table: per endpoint count, errors, p50/p90/p99/max (ms) and requests/s, then
    /// totals and what the hosts did; then the same table for the steady state, if any.
    public func formatted() -> String {
        let seconds = max(elapsed.seconds, 0.001)
        var lines = Self.table(endpoints, seconds: seconds)
        let c = counts
        lines.append("")
        lines.append(
            "hosts: \(hosts) (started \(c.started), enrolled \(c.enrolled), enroll failures \(c.enrollFailures), "
                + "re-enroll requests \(c.reEnrollRequests), slow \(c.slow), dead \(c.dead))")
        lines.append("elapsed: \(String(format: "%.1f", seconds)) s" + (cancelled ? " (cancelled)" : ""))
        lines.append("last host enrolled after: \(String(format: "%.1f", c.lastEnrolledAfter)) s")
        lines.append("config: \(c.configFetches) fetches, \(c.configFailures) failed")
        lines.append(
            "distributed: \(c.distributedRuns) loops, \(c.distributedAnswered) queries answered, \(c.distributedFailures) failed")
        lines.append(
            "result lines: \(c.resultGenerated) generated, \(c.resultSent) sent, \(c.resultAcknowledged) acknowledged")
        lines.append(
            "status lines: \(c.statusGenerated) generated, \(c.statusSent) sent, \(c.statusAcknowledged) acknowledged")
        lines.append("log batches failed (retained and resent): \(c.logBatchFailures)")
        if let steady {
            lines.append("")
            lines.append(
                String(
                    format: "steady state: %.1f s from %.1f s after the start (every host enrolled, then a settling time)",
                    steady.duration.seconds, steady.began.seconds))
            lines += Self.table(steady.endpoints, seconds: max(steady.duration.seconds, 0.001))
            lines.append(
                String(
                    format: "steady load: as many distributed reads as %.0f hosts at a %.0f s interval (%d hosts x speed-up %g)",
                    steady.hostEquivalents, steady.fleetDistributedInterval.seconds, hosts, steady.speedup))
        }
        return lines.joined(separator: "\n")
    }

    private static func table(_ endpoints: [AgentRequestKind: LatencyRecorder.Summary], seconds: Double) -> [String] {
        func ms(_ duration: Duration) -> String { String(format: "%.1f", duration.milliseconds) }
        func rate(_ count: Int) -> String { String(format: "%.1f", Double(count) / seconds) }
        var rows: [[String]] = [["endpoint", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s"]]
        for kind in AgentRequestKind.allCases {
            guard let summary = endpoints[kind] else { continue }
            rows.append([
                kind.rawValue, String(summary.count), String(summary.errors), ms(summary.p50), ms(summary.p90), ms(summary.p99),
                ms(summary.max), rate(summary.count),
            ])
        }
        let requests = endpoints.values.reduce(0) { $0 + $1.count }
        let errors = endpoints.values.reduce(0) { $0 + $1.errors }
        rows.append(["total", String(requests), String(errors), "", "", "", "", rate(requests)])
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return column == 0 ? text + padding : padding + text
            }.joined(separator: "  ")
        }
    }
}
