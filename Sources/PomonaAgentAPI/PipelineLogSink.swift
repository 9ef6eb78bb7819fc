import Foundation
import NIOCore
import PomonaPipeline

/// `/log` into the pipeline: each result line is split into one event per row
/// (``OsqueryLogSplitter``), status lines pass as they are, and the whole request becomes one
/// spool record. `done` is called once the record is durable; when the spool is full it gets the
/// error, and the agent is answered with an error body so it keeps the batch and resends it.
public struct PipelineLogSink: LogSink {
    public let pipeline: Pipeline
    public let splitter: OsqueryLogSplitter

    public init(pipeline: Pipeline) {
        self.pipeline = pipeline
        splitter = OsqueryLogSplitter(snapshotMode: pipeline.configuration.snapshotMode)
    }

    public func append(_ batch: LogBatch, done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        var events: [ByteBuffer] = []
        events.reserveCapacity(batch.lines.count)
        switch batch.kind {
        case .status:
            events = batch.lines
        case .result:
            for line in batch.lines {
                // `/log` already checked every line is a JSON object; a line the splitter cannot
                // take apart (a malformed diffResults) is kept whole rather than lost.
                do { try splitter.split(line, into: &events) } catch { events.append(line) }
            }
        }
        pipeline.append(
            input: "osquery", sourcetype: batch.kind == .result ? "osquery:result" : "osquery:status", hostID: batch.hostID,
            events: events, receivedAt: batch.receivedAt, done: done)
    }
}
