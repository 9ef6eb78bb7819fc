import Foundation
import Hummingbird
import NIOCore
import PomonaAdminAPI
import PomonaAgentAPI
import PomonaCore
import PomonaStore
import Prometheus

/// `GET /metrics` on the admin listener: everything Pomona knows about itself in Prometheus
/// text format, gathered at scrape time from memory (no database query): agent requests and
/// latency per endpoint, admin requests per route, hosts, the store writer, the spool, the
/// health probes, live campaigns, the process, and the pipeline's accounting.
final class ServerMetrics: Sendable {
    let agent: AgentRequestMetrics
    let admin = AdminRequestMetrics()
    let pipeline: PipelineMetrics
    let health: ServerHealth
    let registry: HostRegistry
    let writer: StoreWriter
    /// When set, `/metrics` wants `Authorization: Bearer <token>` (`metrics.token`).
    let token: String?
    let startedAt: Date

    let probeLatency: ProbeLatency

    init(
        agent: AgentRequestMetrics, pipeline: PipelineMetrics, health: ServerHealth, registry: HostRegistry, writer: StoreWriter,
        probeLatency: ProbeLatency, token: String?, startedAt: Date
    ) {
        self.probeLatency = probeLatency
        self.agent = agent
        self.pipeline = pipeline
        self.health = health
        self.registry = registry
        self.writer = writer
        self.token = token
        self.startedAt = startedAt
    }

    func render() async -> [UInt8] {
        var text = PrometheusText()
        for endpoint in agent.snapshot() {
            for (status, count) in endpoint.requests {
                text.counter(
                    "pomona_agent_requests_total", "Agent requests answered, by endpoint and HTTP status", Double(count),
                    labels: [("endpoint", endpoint.endpoint), ("status", status)])
            }
        }
        text.declare("pomona_agent_request_duration_seconds", .histogram, "Time from a request's body being read to its answer, by agent endpoint")
        for endpoint in agent.snapshot() {
            for (le, count) in endpoint.cumulativeBuckets {
                text.sample("pomona_agent_request_duration_seconds_bucket", [("endpoint", endpoint.endpoint), ("le", le)], Double(count))
            }
            text.sample("pomona_agent_request_duration_seconds_sum", [("endpoint", endpoint.endpoint)], endpoint.sumSeconds)
            text.sample("pomona_agent_request_duration_seconds_count", [("endpoint", endpoint.endpoint)], Double(endpoint.count))
        }
        for (key, count) in admin.snapshot() {
            text.counter(
                "pomona_admin_requests_total", "Admin listener requests by route pattern, method and status", Double(count),
                labels: [("route", key.route), ("method", key.method), ("status", String(key.status))])
        }
        text.gauge("pomona_hosts_enrolled", "Enrolled hosts", Double(registry.count))
        let byStatus = registry.statusCounts(now: Date())
        for status in HostStatus.allCases {
            text.gauge("pomona_hosts", "Enrolled hosts by status", Double(byStatus[status] ?? 0), labels: [("status", status.rawValue)])
        }
        text.gauge("pomona_live_campaigns_running", "Live query campaigns running", Double(registry.liveQueries.activeCount))
        text.gauge("pomona_store_writer_queue_depth", "Write units waiting for the store writer's next transaction", Double(await writer.queueDepth))
        text.counter("pomona_store_writer_transactions_total", "Transactions the store writer committed", Double(await writer.transactions))
        text.counter("pomona_store_writer_writes_total", "Write units the store writer committed", Double(await writer.writes))
        for part in health.probes.map(\.name) {
            text.gauge(
                "pomona_health_part_working", "1 while the part's last health probe succeeded recently (see /readyz)",
                health.isWorking(part) ? 1 : 0, labels: [("part", part)])
        }
        if let facts = ProcessFacts.current() {
            text.gauge("process_resident_memory_bytes", "Resident memory", Double(facts.residentBytes))
            text.gauge("process_open_fds", "Open file descriptors", Double(facts.openFDs))
            text.gauge("process_max_fds", "The open file descriptor limit", Double(facts.maxFDs))
        }
        text.gauge("process_start_time_seconds", "When the server started, seconds since 1970", startedAt.timeIntervalSince1970.rounded())
        var out = Array(text.text.utf8)
        probeLatency.registry.emit(into: &out)
        out += pipeline.render()
        return out
    }

    func register(on router: Router<AdminRequestContext>) {
        let token = self.token
        router.get("/metrics") { request, _ -> Response in
            if let token, !MetricsToken.accepts(request.headers[.authorization], token: token) {
                return Response(
                    status: .unauthorized, headers: [.contentType: "text/plain; charset=utf-8", .wwwAuthenticate: "Bearer"],
                    body: .init(byteBuffer: ByteBuffer(string: "metrics.token is set: send Authorization: Bearer <token>\n")))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: await self.render())))
        }
    }
}

/// The `metrics.token` check, compared in constant time.
enum MetricsToken {
    static func accepts(_ authorization: String?, token: String) -> Bool {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(authorization.dropFirst(7).utf8), wanted = Array(token.utf8)
        guard given.count == wanted.count else { return false }
        return zip(given, wanted).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Latencies of the health probes: the time a write takes from queueing to commit through the
/// store writer, and a spool write round, as the health loop samples them each tick.
final class ProbeLatency: Sendable {
    let registry = PrometheusCollectorRegistry()
    let storeWrite: DurationHistogram
    let spoolSync: DurationHistogram
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    init() {
        storeWrite = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "pomona_store_write_latency_seconds", unitName: "",
                helpText: "Queue-to-commit time of the health probe's write through the store writer (sampled each health tick)"),
            buckets: Self.buckets)
        spoolSync = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "pomona_spool_sync_latency_seconds", unitName: "",
                helpText: "Time of the health probe's spool write round, fdatasync included per the fsync policy (sampled each health tick)"),
            buckets: Self.buckets)
    }

    /// Called by the health loop for each successful probe.
    func record(part: String, duration: Duration) {
        switch part {
        case PomonaServer.storeWriterPart: storeWrite.record(duration)
        case PomonaServer.spoolWriterPart: spoolSync.record(duration)
        default: break
        }
    }
}
