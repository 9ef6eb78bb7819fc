import Testing

@testable import PomonaAgentAPI

@Suite struct AgentRequestMetricsTests {
    @Test func countsByEndpointAndStatusWithCumulativeBuckets() {
        let metrics = AgentRequestMetrics(endpoints: ["/config", "/log"])
        metrics.record(endpoint: "/log", status: 200, nanoseconds: 300_000)  // 0.3 ms → le 0.0005
        metrics.record(endpoint: "/log", status: 200, nanoseconds: 3_000_000)  // 3 ms → le 0.005
        metrics.record(endpoint: "/log", status: 503, nanoseconds: 20_000_000_000)  // 20 s → +Inf only
        metrics.record(endpoint: "/log", status: 418, nanoseconds: 1_000)  // not a listed status
        metrics.record(endpoint: "/nope", status: 200, nanoseconds: 1)  // not an endpoint: ignored
        let snapshot = metrics.snapshot()
        #expect(snapshot.map(\.endpoint) == ["/config", "/log"])
        #expect(snapshot[0].count == 0 && snapshot[0].requests.isEmpty)
        let log = snapshot[1]
        #expect(log.requests.map(\.status) == ["200", "503", "other"])
        #expect(log.requests.map(\.count) == [2, 1, 1])
        #expect(log.count == 4)
        let buckets = Dictionary(uniqueKeysWithValues: log.cumulativeBuckets.map { ($0.le, $0.count) })
        #expect(buckets["0.0005"] == 2, "0.3 ms and 1 µs")
        #expect(buckets["0.0025"] == 2)
        #expect(buckets["0.005"] == 3)
        #expect(buckets["10"] == 3)
        #expect(buckets["+Inf"] == 4)
        #expect(log.cumulativeBuckets.last?.le == "+Inf")
        #expect(abs(log.sumSeconds - 20.003301) < 1e-9)
    }
}
