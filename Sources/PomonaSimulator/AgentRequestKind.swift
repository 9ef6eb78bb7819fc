/// The seven requests osqueryd makes to a TLS server (spec §0).
///
/// The kind decides how a response is judged (``AgentResponseJudgement``) and which endpoint's
/// latency is recorded (``LatencyRecorder``).
public enum AgentRequestKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case enroll
    case config
    case distributedRead = "distributed_read"
    case distributedWrite = "distributed_write"
    case log
    case carveStart = "carve_start"
    case carveBlock = "carve_block"

    /// Whether the request goes through `TLSRequestHelper::go`, which adds `node_key` and checks
    /// `node_invalid` then `error` (spec §2).
    public var usesRequestHelper: Bool {
        switch self {
        case .config, .distributedRead, .distributedWrite, .log: true
        case .enroll, .carveStart, .carveBlock: false
        }
    }

    public var description: String { rawValue }
}

/// The osqueryd threads that talk to the server; each keeps its own connection (spec §6.4).
enum AgentThread: Hashable, Sendable {
    /// The config refresh thread; it also enrolls.
    case config
    case distributed
    case logger
    case carver

    init(_ kind: AgentRequestKind) {
        switch kind {
        case .enroll, .config: self = .config
        case .distributedRead, .distributedWrite: self = .distributed
        case .log: self = .logger
        case .carveStart, .carveBlock: self = .carver
        }
    }
}
