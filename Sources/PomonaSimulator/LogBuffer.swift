import Foundation

/// The agent's buffered log lines for one log type, with osqueryd's head-of-line rule (spec §4.5–§4.6).
///
/// Lines wait here (osqueryd keeps them in RocksDB) until a POST of their batch succeeds. A batch
/// is always the **oldest** `maxLines` lines, so a batch the server keeps rejecting blocks every
/// line behind it. Pure value type: the agent owns it and performs the POST.
///
/// ```swift
/// var buffer = LogBuffer()
/// buffer.append([line1, line2])
/// let batch = buffer.nextBatch(maxLines: 1024, maxLineSize: 1 << 20)
/// // POST batch.payload … on success:
/// buffer.commit(batch)
/// ```
public struct LogBuffer: Sendable, Equatable {
    /// One batch to send.
    public struct Batch: Sendable, Equatable {
        /// How many buffered lines the batch covers, dropped ones included; all go on success.
        public var lineCount: Int
        /// The lines that go into `data`. Invalid JSON and oversized lines are left out silently.
        public var payload: [JSONValue]
        /// How many lines were left out of `payload`.
        public var dropped: Int
    }

    private(set) var lines: [Data] = []

    /// Creates an empty buffer.
    public init() {}

    /// Number of lines waiting.
    public var count: Int { lines.count }

    /// Buffers serialized lines (what osqueryd writes to RocksDB).
    public mutating func append(_ newLines: [Data]) { lines.append(contentsOf: newLines) }

    /// The oldest batch, or `nil` when nothing is buffered.
    public func nextBatch(maxLines: Int, maxLineSize: Int) -> Batch? {
        guard !lines.isEmpty else { return nil }
        let slice = lines.prefix(max(maxLines, 1))
        var payload: [JSONValue] = []
        var dropped = 0
        for line in slice {
            // osqueryd parses each buffered line to embed it as an object; a line that is too long
            // or does not parse is left out and deleted with the batch.
            if line.count > maxLineSize {
                dropped += 1
            } else if let value = try? JSONValue.parse(line), case .object = value {
                payload.append(value)
            } else {
                dropped += 1
            }
        }
        return Batch(lineCount: slice.count, payload: payload, dropped: dropped)
    }

    /// Deletes the lines of a batch whose POST succeeded.
    public mutating func commit(_ batch: Batch) {
        lines.removeFirst(min(batch.lineCount, lines.count))
    }
}
