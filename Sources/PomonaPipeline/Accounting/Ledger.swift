import Foundation
import Logging
import Synchronization

/// Checkpoints and counts, per output and input; the pipeline's book of record.
///
/// Each output's checkpoint and outcome counters change together, in one lock, when its
/// delivery loop commits a resolved span, and are persisted together in one file
/// (`<spool>/checkpoints/<output>.json`, replaced atomically). `received` is not persisted: at
/// start it is rebuilt as *persisted outcomes + what the spool still holds behind the
/// checkpoint*, which is exactly true after any crash. So the balance
/// `received = forwarded + filtered + throttled + dead_lettered + dropped + still_spooled`
/// holds at every snapshot and across restarts.
public final class Ledger: SpoolObserver, Sendable {
    struct OutputBook: Sendable {
        var checkpoint: SpoolPosition
        var persistedCheckpoint: SpoolPosition
        var received: [String: EventTally] = [:]
        var outcomes: [String: OutcomeCounters] = [:]
        var filteredBy: [String: EventTally] = [:]
        var throttledBy: [String: EventTally] = [:]
        var summariesSent: Int64 = 0
        var retries: Int64 = 0
        /// Events the receiver already had (Elasticsearch 409 on `create`): delivered, counted.
        var duplicates: Int64 = 0
        /// Events cut to the receiver's size limit (syslog over UDP).
        var truncated: Int64 = 0
        var inFlight = 0
        var lastError: String?
        var lastErrorAt: Double?
        var dirty = false
    }

    struct State: Sendable {
        var outputs: [String: OutputBook] = [:]
        var order: [String] = []
        var inputReceived: [String: EventTally] = [:]
        var inputRefused: [String: Int64] = [:]
        var refusedAppends: Int64 = 0
    }

    let directory: String
    let sync: Bool
    let logger: Logger
    let state: Mutex<State>

    /// Opens the books for `outputs`: loads each checkpoint file, or starts a new output at the
    /// beginning of the spool when no output has a checkpoint yet (first start, or a crash before
    /// the first checkpoint), else at the spool's end (an output added later does not replay
    /// history). Outputs no longer configured keep their files but are ignored.
    public init(spool: Spool, outputs: [String], logger: Logger) throws {
        let directory = spool.options.directory.appendingPathComponent("checkpoints").path
        self.directory = directory
        sync = spool.options.fsync != .never
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw SpoolError.io("cannot create \(directory): \(error.localizedDescription)")
        }
        var state = State()
        let saved = outputs.map { (name: $0, file: Ledger.load(directory: directory, output: $0, logger: logger)) }
        let anySaved = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.contains { $0.hasSuffix(".json") } ?? false
        let start = spool.startPosition
        let end = spool.endPosition
        for (name, file) in saved {
            var checkpoint = file?.checkpoint.position ?? (anySaved ? end : start)
            // A checkpoint into a segment that is gone (dropped, or released) means "from the next one".
            if checkpoint.segment < start.segment { checkpoint = start }
            var book = OutputBook(checkpoint: checkpoint, persistedCheckpoint: checkpoint)
            book.outcomes = file?.outcomes ?? [:]
            book.filteredBy = file?.filteredBy ?? [:]
            book.throttledBy = file?.throttledBy ?? [:]
            book.summariesSent = file?.summariesSent ?? 0
            for (input, counters) in book.outcomes { book.received[input, default: .zero] += counters.total }
            book.received.add(spool.remaining(from: checkpoint))
            book.dirty = file == nil
            state.outputs[name] = book
            state.order.append(name)
        }
        let inputs = Ledger.loadInputs(directory: directory)
        state.inputReceived = inputs.received
        state.inputRefused = inputs.refused
        // Records committed after the inputs file was last written are in some output's `received`.
        for book in state.outputs.values {
            for (input, tally) in book.received where tally.events > state.inputReceived[input]?.events ?? 0 {
                state.inputReceived[input] = tally
            }
        }
        self.state = Mutex(state)
    }

    // MARK: - Spool events

    public func spoolCommitted(_ records: [SpoolRecordMeta]) {
        state.withLock { state in
            for record in records {
                state.inputReceived[record.input, default: .zero] += record.tally
                for name in state.order { state.outputs[name]!.received[record.input, default: .zero] += record.tally }
            }
        }
    }

    public func spoolWillDrop(segment id: UInt64, records: [SpoolRecordMeta], nextSegment: UInt64) {
        state.withLock { state in
            for name in state.order {
                var book = state.outputs[name]!
                guard book.checkpoint.segment <= id else { continue }
                var segment = SegmentState(id: id, path: "", size: 0)
                for record in records { segment.add(record) }
                let lost = book.checkpoint.segment == id ? segment.remaining(from: book.checkpoint) : segment.totals
                for (input, tally) in lost where tally.events > 0 || tally.bytes > 0 {
                    book.outcomes[input, default: OutcomeCounters()].dropped += tally
                }
                book.checkpoint = SpoolPosition(segment: nextSegment, offset: 0)
                book.dirty = true
                state.outputs[name] = book
            }
        }
    }

    /// Counts a request the spool refused (full, `block` policy).
    public func noteRefused(input: String) {
        state.withLock { state in
            state.inputRefused[input, default: 0] += 1
            state.refusedAppends += 1
        }
    }

    // MARK: - Delivery

    public func checkpoint(_ output: String) -> SpoolPosition {
        state.withLock { $0.outputs[output]!.checkpoint }
    }

    /// Applies resolved spans in order. A span that ends at or before the checkpoint was
    /// overtaken by `drop_oldest` (its events are already counted as dropped) and is ignored.
    public func commit(_ output: String, _ spans: [ResolvedSpan]) {
        state.withLock { state in
            var book = state.outputs[output]!
            for span in spans {
                book.summariesSent += span.summariesSent
                guard let end = span.end else { continue }
                if end <= book.checkpoint { continue }
                for (input, counters) in span.byInput { book.outcomes[input, default: OutcomeCounters()] += counters }
                book.filteredBy.add(span.filteredBy)
                book.throttledBy.add(span.throttledBy)
                book.checkpoint = end
                book.dirty = true
            }
            state.outputs[output] = book
        }
    }

    public func noteRetry(_ output: String, reason: String, at time: Double) {
        state.withLock { state in
            state.outputs[output]!.retries += 1
            state.outputs[output]!.lastError = reason
            state.outputs[output]!.lastErrorAt = time
        }
    }

    /// What a send reported besides its outcome: duplicates the receiver recognised, truncations.
    public func noteSendDetails(_ output: String, duplicates: Int, truncated: Int) {
        guard duplicates > 0 || truncated > 0 else { return }
        state.withLock { state in
            state.outputs[output]!.duplicates += Int64(duplicates)
            state.outputs[output]!.truncated += Int64(truncated)
        }
    }

    public func setInFlight(_ output: String, _ count: Int) {
        state.withLock { $0.outputs[output]!.inFlight = count }
    }

    // MARK: - Persistence

    struct CheckpointFile: Codable {
        struct Position: Codable {
            var segment: UInt64
            var offset: Int64
            var index: Int
            var consumedBytes: Int64
            var position: SpoolPosition { SpoolPosition(segment: segment, offset: offset, index: index, consumedBytes: consumedBytes) }
            enum CodingKeys: String, CodingKey {
                case segment, offset, index
                case consumedBytes = "consumed_bytes"
            }
        }
        var version = 1
        var output: String
        var checkpoint: Position
        var outcomes: [String: OutcomeCounters]
        var filteredBy: [String: EventTally]
        var throttledBy: [String: EventTally]
        var summariesSent: Int64
        enum CodingKeys: String, CodingKey {
            case version, output, checkpoint, outcomes
            case filteredBy = "filtered_by"
            case throttledBy = "throttled_by"
            case summariesSent = "summaries_sent"
        }
    }

    static func path(directory: String, output: String) -> String {
        // Output names are validated identifiers, but never trust a name as a path component.
        let safe = String(output.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) ? Character($0) : "_" })
        return (directory as NSString).appendingPathComponent(safe + ".json")
    }

    static func load(directory: String, output: String, logger: Logger) -> CheckpointFile? {
        let path = path(directory: directory, output: output)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(CheckpointFile.self, from: data) } catch {
            logger.error("pipeline: unreadable checkpoint; the output restarts from the oldest spooled event", metadata: [
                "path": "\(path)", "error": "\(error)",
            ])
            return CheckpointFile(output: output, checkpoint: .init(segment: 0, offset: 0, index: 0, consumedBytes: 0), outcomes: [:],
                                  filteredBy: [:], throttledBy: [:], summariesSent: 0)
        }
    }

    struct InputsFile: Codable {
        var received: [String: EventTally]
        var refused: [String: Int64]
    }

    static func loadInputs(directory: String) -> InputsFile {
        let path = (directory as NSString).appendingPathComponent("_inputs.state")
        guard let data = FileManager.default.contents(atPath: path), let file = try? JSONDecoder().decode(InputsFile.self, from: data) else {
            return InputsFile(received: [:], refused: [:])
        }
        return file
    }

    /// Writes `output`'s checkpoint and counters if they changed; returns whether it wrote.
    /// Atomic (temporary file, fsync, rename), so a crash leaves the old or the new state.
    @discardableResult
    public func persist(_ output: String) throws -> Bool {
        let snapshot: CheckpointFile? = state.withLock { state in
            guard var book = state.outputs[output], book.dirty else { return nil }
            book.dirty = false
            state.outputs[output] = book
            let c = book.checkpoint
            return CheckpointFile(
                output: output, checkpoint: .init(segment: c.segment, offset: c.offset, index: c.index, consumedBytes: c.consumedBytes),
                outcomes: book.outcomes, filteredBy: book.filteredBy, throttledBy: book.throttledBy, summariesSent: book.summariesSent)
        }
        guard let snapshot else { return false }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileIO.atomicWrite(Array(try encoder.encode(snapshot)), to: Ledger.path(directory: directory, output: output), sync: sync)
        } catch {
            state.withLock { $0.outputs[output]?.dirty = true }
            throw error
        }
        state.withLock { $0.outputs[output]?.persistedCheckpoint = snapshot.checkpoint.position }
        return true
    }

    /// Writes the per-input totals (informational; rebuilt from the outputs' books if stale).
    public func persistInputs() throws {
        let file = state.withLock { InputsFile(received: $0.inputReceived, refused: $0.inputRefused) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileIO.atomicWrite(Array(try encoder.encode(file)), to: (directory as NSString).appendingPathComponent("_inputs.state"), sync: false)
    }

    /// The oldest persisted checkpoint: every segment before it can be deleted.
    public var releasablePosition: SpoolPosition? {
        state.withLock { state in state.outputs.values.map(\.persistedCheckpoint).min() }
    }

    // MARK: - Snapshot

    /// Counts per output (in configuration order) and input; `spool` must be the snapshot taken
    /// under the same spool lock as this call (see ``Pipeline/stats()``).
    public func outputStats(_ spool: SpoolSnapshot) -> [PipelineStats.Output] {
        state.withLock { state in
            state.order.map { name in
                let book = state.outputs[name]!
                let remaining = spool.remaining(from: book.checkpoint)
                var byInput: [String: PipelineStats.Counts] = [:]
                let inputs = Set(book.received.keys).union(book.outcomes.keys).union(remaining.keys)
                for input in inputs {
                    byInput[input] = PipelineStats.Counts(
                        received: book.received[input] ?? .zero, outcomes: book.outcomes[input] ?? OutcomeCounters(),
                        stillSpooled: remaining[input] ?? .zero)
                }
                return PipelineStats.Output(
                    name: name, totals: byInput.values.reduce(PipelineStats.Counts.zero, +), byInput: byInput,
                    filteredBy: book.filteredBy, throttledBy: book.throttledBy, checkpoint: book.checkpoint.description,
                    inFlightBatches: book.inFlight, retries: book.retries, duplicates: book.duplicates, truncated: book.truncated,
                    summariesSent: book.summariesSent,
                    lastError: book.lastError, lastErrorAt: book.lastErrorAt)
            }
        }
    }

    public func inputStats() -> (inputs: [PipelineStats.Input], refused: Int64) {
        state.withLock { state in
            let names = Set(state.inputReceived.keys).union(state.inputRefused.keys).sorted()
            return (names.map { PipelineStats.Input(name: $0, received: state.inputReceived[$0] ?? .zero, refused: state.inputRefused[$0] ?? 0) },
                    state.refusedAppends)
        }
    }
}
