/// Why an ``OsqueryAgent`` operation gave up, with the verdict of its last attempt.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; a struct with static members so new codes do not break callers' switches.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case enrollFailed = "enroll failed"
            case requestFailed = "request failed"
            case nodeInvalid = "node key invalid"
            case carveFailed = "carve failed"
        }
        private let base: Base
        /// Every enroll attempt failed.
        public static let enrollFailed = Code(base: .enrollFailed)
        /// Every attempt of a config, distributed or log request failed.
        public static let requestFailed = Code(base: .requestFailed)
        /// The last attempt was answered `node_invalid: true`; the key has been dropped.
        public static let nodeInvalid = Code(base: .nodeInvalid)
        /// A carve start or block exhausted its attempts; osqueryd never resumes a carve.
        public static let carveFailed = Code(base: .carveFailed)
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Which request failed.
    public var kind: AgentRequestKind
    /// How the last attempt was judged.
    public var verdict: AgentResponseJudgement
    /// How many attempts were made.
    public var attempts: Int

    public init(code: Code, kind: AgentRequestKind, verdict: AgentResponseJudgement, attempts: Int) {
        self.code = code
        self.kind = kind
        self.verdict = verdict
        self.attempts = attempts
    }

    public var description: String { "\(kind): \(code) after \(attempts) attempt(s): \(verdict)" }
}
