import Foundation
import NIOCore
import PomonaCore

/// One `/log` request, reduced to what is kept: the lines as the agent's own bytes.
public struct LogBatch: Sendable {
    public enum Kind: String, Sendable { case result, status }

    public var hostID: Int64
    public var kind: Kind
    /// Each element of `data`, exactly the bytes the agent sent (a JSON object).
    public var lines: [ByteBuffer]
    public var receivedAt: Date

    public init(hostID: Int64, kind: Kind, lines: [ByteBuffer], receivedAt: Date) {
        self.hostID = hostID
        self.kind = kind
        self.lines = lines
        self.receivedAt = receivedAt
    }
}

/// Where accepted logs go. `append` calls `done` exactly once: with success only once the batch
/// is durable, otherwise with the reason, and the agent is answered with an error so it keeps
/// and resends the batch (spec §4.6). `done` may run on any thread and must not block.
///
/// A callback rather than `async`: `/log` is answered without a task (the event loop that read
/// it appends; the spool's writing thread calls back), which saves two thread hops per request.
public protocol LogSink: Sendable {
    func append(_ batch: LogBatch, done: @escaping @Sendable (Result<Void, any Error>) -> Void)
}
