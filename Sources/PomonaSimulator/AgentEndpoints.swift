/// The paths an emulated agent posts to. osqueryd has no defaults for these flags (spec §0), so
/// the three families seen in practice are offered.
public struct AgentEndpoints: Sendable, Equatable {
    public var enroll: String
    public var config: String
    public var distributedRead: String
    public var distributedWrite: String
    public var log: String
    public var carveStart: String
    public var carveBlock: String

    /// Creates a custom set of paths; each must start with `/`.
    public init(
        enroll: String, config: String, distributedRead: String, distributedWrite: String,
        log: String, carveStart: String, carveBlock: String
    ) {
        self.enroll = enroll
        self.config = config
        self.distributedRead = distributedRead
        self.distributedWrite = distributedWrite
        self.log = log
        self.carveStart = carveStart
        self.carveBlock = carveBlock
    }

    /// Paths under a prefix such as `/api/osquery` (Fleet's layout).
    public init(prefix: String) {
        self.init(
            enroll: prefix + "/enroll", config: prefix + "/config",
            distributedRead: prefix + "/distributed/read", distributedWrite: prefix + "/distributed/write",
            log: prefix + "/log", carveStart: prefix + "/carve/begin", carveBlock: prefix + "/carve/block")
    }

    /// `/api/osquery/enroll` and friends (the default).
    public static let standard = AgentEndpoints(prefix: "/api/osquery")
    /// `/api/v1/osquery/enroll` and friends (Fleet's older layout).
    public static let v1 = AgentEndpoints(prefix: "/api/v1/osquery")
    /// osquery's own test server (`tools/tests/test_http_server.py`).
    public static let osqueryTestServer = AgentEndpoints(
        enroll: "/enroll", config: "/config", distributedRead: "/distributed_read",
        distributedWrite: "/distributed_write", log: "/log", carveStart: "/carve_init", carveBlock: "/carve_block")

    /// The path for a request kind.
    public func path(for kind: AgentRequestKind) -> String {
        switch kind {
        case .enroll: enroll
        case .config: config
        case .distributedRead: distributedRead
        case .distributedWrite: distributedWrite
        case .log: log
        case .carveStart: carveStart
        case .carveBlock: carveBlock
        }
    }
}
