import Synchronization

/// Counts of agent requests by endpoint and status, and their latency, for `/metrics`.
///
/// On the agent hot path, so recording is a few relaxed atomic increments into cells fixed at
/// init: no lock, no allocation, no label formatting. Labels are bounded (the endpoint table's
/// paths, a fixed list of statuses with the rest as `other`); rendering happens at scrape time.
public final class AgentRequestMetrics: Sendable {
    /// Statuses the agent endpoints answer with; anything else is counted as `other`.
    public static let statuses = [200, 400, 401, 404, 408, 413, 415, 429, 500, 503]
    /// Upper bounds of the latency buckets, in seconds (`+Inf` is implied).
    public static let bucketBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    final class Cell: Sendable {
        let value = Atomic<Int64>(0)
        func add(_ amount: Int64) { value.wrappingAdd(amount, ordering: .relaxed) }
        var current: Int64 { value.load(ordering: .relaxed) }
    }

    /// The endpoints' paths (`/log`, `/config`, …), in label order.
    public let endpoints: [String]
    private let index: [String: Int]
    /// endpoint × (statuses + other)
    private let requests: [Cell]
    /// endpoint × (buckets + overflow), each request counted once in its own bucket.
    private let buckets: [Cell]
    private let sumNanoseconds: [Cell]

    public init(endpoints: [String]) {
        self.endpoints = endpoints
        index = Dictionary(endpoints.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        requests = (0..<endpoints.count * (Self.statuses.count + 1)).map { _ in Cell() }
        buckets = (0..<endpoints.count * (Self.bucketBounds.count + 1)).map { _ in Cell() }
        sumNanoseconds = endpoints.map { _ in Cell() }
    }

    /// Records one answered request; an endpoint not in the table is ignored.
    public func record(endpoint: String, status: Int, nanoseconds: Int64) {
        guard let e = index[endpoint] else { return }
        let s = Self.statuses.firstIndex(of: status) ?? Self.statuses.count
        requests[e * (Self.statuses.count + 1) + s].add(1)
        let seconds = Double(nanoseconds) / 1e9
        let b = Self.bucketBounds.firstIndex { seconds <= $0 } ?? Self.bucketBounds.count
        buckets[e * (Self.bucketBounds.count + 1) + b].add(1)
        sumNanoseconds[e].add(max(0, nanoseconds))
    }

    public struct Endpoint: Sendable, Equatable {
        public var endpoint: String
        /// (status label, count), only the non-zero ones.
        public var requests: [(status: String, count: Int64)]
        /// Cumulative counts per bucket bound (Prometheus `le`), `+Inf` last.
        public var cumulativeBuckets: [(le: String, count: Int64)]
        public var count: Int64
        public var sumSeconds: Double

        public static func == (a: Endpoint, b: Endpoint) -> Bool {
            a.endpoint == b.endpoint && a.requests.map(\.status) == b.requests.map(\.status)
                && a.requests.map(\.count) == b.requests.map(\.count) && a.cumulativeBuckets.map(\.le) == b.cumulativeBuckets.map(\.le)
                && a.cumulativeBuckets.map(\.count) == b.cumulativeBuckets.map(\.count) && a.count == b.count && a.sumSeconds == b.sumSeconds
        }
    }

    /// The counts now, per endpoint (a scrape; increments racing it land in the next one).
    public func snapshot() -> [Endpoint] {
        endpoints.enumerated().map { e, name in
            var byStatus: [(String, Int64)] = []
            for s in 0...Self.statuses.count {
                let count = requests[e * (Self.statuses.count + 1) + s].current
                if count > 0 { byStatus.append((s < Self.statuses.count ? String(Self.statuses[s]) : "other", count)) }
            }
            var running: Int64 = 0
            var cumulative: [(String, Int64)] = []
            for b in 0...Self.bucketBounds.count {
                running += buckets[e * (Self.bucketBounds.count + 1) + b].current
                cumulative.append((b < Self.bucketBounds.count ? Self.label(Self.bucketBounds[b]) : "+Inf", running))
            }
            return Endpoint(
                endpoint: name, requests: byStatus, cumulativeBuckets: cumulative, count: running,
                sumSeconds: Double(sumNanoseconds[e].current) / 1e9)
        }
    }

    /// `0.0005`, `1`, `2.5`: Prometheus accepts any float text; the shortest reads best.
    static func label(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }
}
