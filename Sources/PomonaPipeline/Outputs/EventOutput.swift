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
    /// How long a started batch may wait for more events once the spool is read to its end.
    public var flushTimeout: Duration

    public init(maxEvents: Int, maxBytes: Int, concurrency: Int, flushTimeout: Duration = .zero) {
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.concurrency = concurrency
        self.flushTimeout = flushTimeout
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
    /// The retry is caused by configuration (bad token, disabled token, wrong URL, 401/403), not by
    /// load: nothing will get through until an operator acts. The loop should keep spooling, back off
    /// to its maximum and raise an alert rather than dead-letter.
    public var configurationProblem: Bool
    /// How many of the delivered events the receiver already had (Elasticsearch 409 on `create`
    /// with our stable `_id`): delivered, but worth counting as duplicates avoided.
    public var duplicates: Int
    /// How many of the delivered events were cut to fit the receiver's size limit (syslog over
    /// UDP, `max_message_bytes`): delivered, but not whole.
    public var truncated: Int

    public init(rejected: [Int: String] = [:], retry: [Int] = [], retryReason: String? = nil, retryAfter: Double? = nil,
                configurationProblem: Bool = false, duplicates: Int = 0, truncated: Int = 0) {
        self.rejected = rejected
        self.retry = retry
        self.retryReason = retryReason
        self.retryAfter = retryAfter
        self.configurationProblem = configurationProblem
        self.duplicates = duplicates
        self.truncated = truncated
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
