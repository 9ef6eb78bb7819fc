/// A SIEM forwarder (Splunk HEC, Elasticsearch bulk, syslog, HTTP NDJSON, file).
///
/// An output makes **one attempt** per call and classifies every event; retrying with backoff,
/// dead-lettering and checkpointing belong to the pipeline's delivery loop, so each output
/// stays a small wire-format adapter that can be unit-tested against a fake receiver.
public protocol EventOutput: Sendable {
    /// The configured name (unique among outputs; used for checkpoints, metrics, dead letters).
    var name: String { get }
    /// How the delivery loop should cut batches for this output.
    var batchLimits: OutputBatchLimits { get }
    /// Sends `events` once. Must not throw: every failure is expressed in the result.
    func send(_ events: [PipelineEvent]) async -> OutputSendResult
    /// Releases connections; called once on shutdown.
    func shutdown() async
}

public struct OutputBatchLimits: Sendable, Equatable {
    public var maxEvents: Int
    public var maxBytes: Int
    /// How many batches may be in flight to this output at once.
    public var concurrency: Int

    public init(maxEvents: Int, maxBytes: Int, concurrency: Int) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.concurrency = concurrency
    }
}

/// The outcome of one attempt, per event (indices into the batch that was sent).
public struct OutputSendResult: Sendable, Equatable {
    /// Index ranges not listed in `rejected` or `retry` were delivered.
    /// Events the receiver refused for good (malformed, mapping error, 400…): dead-lettered with
    /// the reason, never retried.
    public var rejected: [Int: String]
    /// Events to send again after a backoff (5xx, 429, timeouts, connection errors).
    public var retry: [Int]
    /// Why the retried events failed (shown in logs, metrics and `pipeline stats`).
    public var retryReason: String?
    /// A hint from the receiver (`Retry-After`), in seconds.
    public var retryAfter: Double?

    public init(rejected: [Int: String] = [:], retry: [Int] = [], retryReason: String? = nil, retryAfter: Double? = nil) {
        self.rejected = rejected
        self.retry = retry
        self.retryReason = retryReason
        self.retryAfter = retryAfter
    }

    public static let delivered = OutputSendResult()

    /// Every event of a batch of `count` is to be retried.
    public static func retryAll(_ count: Int, reason: String, after: Double? = nil) -> OutputSendResult {
        OutputSendResult(retry: Array(0..<count), retryReason: reason, retryAfter: after)
    }

    /// Every event of a batch of `count` is rejected for good.
    public static func rejectAll(_ count: Int, reason: String) -> OutputSendResult {
        OutputSendResult(rejected: Dictionary(uniqueKeysWithValues: (0..<count).map { ($0, reason) }))
    }
}
