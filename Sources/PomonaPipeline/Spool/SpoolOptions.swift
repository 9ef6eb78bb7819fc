import Foundation

/// When the spool makes an accepted batch durable before answering the sender.
public enum SpoolFsyncPolicy: String, Sendable, Equatable, CaseIterable {
    /// `fdatasync` before `append` returns (group-committed): acknowledged events survive power
    /// loss and kernel crashes. The default.
    case always
    /// `append` returns once the bytes are in the page cache; a timer syncs every
    /// `fsync_interval`. Survives kill -9 of Pomona, but a power loss can lose up to one
    /// interval of acknowledged events.
    case interval
    /// Never syncs (the kernel writes back eventually). Survives kill -9, not power loss. For
    /// benchmarks and disposable data only.
    case never
}

/// What `append` does when accepting a batch would take the spool past `maxBytes`.
public enum SpoolFullPolicy: String, Sendable, Equatable, CaseIterable {
    /// Refuse the batch (`SpoolError.full`): `/log` answers osquery with an error body so the
    /// agent keeps and resends it, `/collector` answers 503 with `Retry-After`. The default:
    /// back-pressure to the senders, nothing acknowledged is ever lost.
    case block
    /// Delete the oldest segment (even if outputs have not consumed it) and count every event
    /// in it that an output had not yet resolved as `dropped` for that output.
    case dropOldest = "drop_oldest"
}

public struct SpoolOptions: Sendable, Equatable {
    public var directory: URL
    /// A segment is closed and a new one started once it reaches this size.
    public var segmentBytes: Int = 64 << 20
    /// Bound on all segments together.
    public var maxBytes: Int64 = 4 << 30
    public var fsync: SpoolFsyncPolicy = .always
    public var fsyncInterval: Duration = .milliseconds(500)
    /// Under `always`, while appends keep coming (the last sync ended under 50 ms ago), a round
    /// waits this long before taking what is pending, so more requests share one `fdatasync`.
    /// The sync was the largest single cost of log ingest (14% of server CPU at 3,000 hosts);
    /// the price is at most this much more latency per acknowledgement, and only under load.
    public var commitDelay: Duration = .milliseconds(4)
    public var whenFull: SpoolFullPolicy = .block

    public init(directory: URL) {
        self.directory = directory
    }

    /// Largest single record (one accepted request); bigger requests are refused.
    public var maxRecordBytes: Int { min(Int(min(maxBytes / 2, Int64(Int32.max))), max(segmentBytes, 256 << 20)) }
}

public enum SpoolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The spool is at `max_bytes` and the policy is `block`.
    case full(maxBytes: Int64)
    /// One request larger than the spool could ever hold.
    case recordTooLarge(bytes: Int, limit: Int)
    case closed
    case io(String)

    public var description: String {
        switch self {
        case .full(let max): "spool full (\(max) bytes); retry later"
        case .recordTooLarge(let bytes, let limit): "batch of \(bytes) bytes exceeds the spool's record limit of \(limit) bytes"
        case .closed: "spool is closed (shutting down)"
        case .io(let message): "spool I/O error: \(message)"
        }
    }
}
