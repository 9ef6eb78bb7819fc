import Foundation
import Logging
import Synchronization
import NIOCore
import PomonaCore

/// The delivery loop of one output: read the spool from the output's checkpoint, run the
/// output's stages, cut batches, send up to `concurrency` at once, retry with backoff, dead-letter
/// what the receiver refuses, and advance the checkpoint in order.
///
/// Each output has its own loop, reader and checkpoint, so a slow or unreachable receiver only
/// holds back its own checkpoint (and, once the spool is full, ingest).
public final class OutputDelivery: Sendable {
    public let output: any EventOutput
    let processor: any DeliveryProcessing
    let spool: Spool
    let ledger: Ledger
    let deadLetters: DeadLetterFile
    let retry: RetryPolicy
    let logger: Logger
    let clock: @Sendable () -> Double
    /// How much of the spool one read takes (the loop cuts batches from it).
    let readAheadBytes: Int
    /// Sends the receiver answered (accepted or refused anything). A batch waiting out its
    /// backoff retries at once when this moves: the receiver is back, and batches sleeping up to
    /// `maxBackoff` would otherwise hold the in-order checkpoint (and the spool) behind them.
    let answeredSends = Atomic<UInt64>(0)

    public init(output: any EventOutput, processor: any DeliveryProcessing, spool: Spool, ledger: Ledger, deadLetters: DeadLetterFile,
                retry: RetryPolicy, logger: Logger, readAheadBytes: Int = 4 << 20,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.output = output
        self.processor = processor
        self.spool = spool
        self.ledger = ledger
        self.deadLetters = deadLetters
        self.retry = retry
        self.logger = logger
        self.readAheadBytes = readAheadBytes
        self.clock = clock
    }

    var name: String { output.name }

    /// Events cut for one send, with what they stand for in the spool.
    struct Batch: Sendable {
        var sequence: Int
        var events: [PipelineEvent] = []
        /// For each event: which spooled event (index into `spooled`) it is a copy of.
        var origins: [Int] = []
        /// The spooled events forwarded in this batch: input and body bytes.
        var spooled: [(input: String, bytes: Int64)] = []
        /// Outcomes already known (filtered, throttled, corrupt) and the end position.
        var span: ResolvedSpan
        var bytes = 0
        var segment: UInt64?
        /// When the first event went in (the flush timeout counts from here).
        var openedAt: ContinuousClock.Instant?

        var isEmpty: Bool { events.isEmpty && span.byInput.isEmpty }
    }

    /// Runs until the spool is closed and everything in it was resolved, or the task is
    /// cancelled (drain deadline: unresolved batches stay behind the checkpoint for next time).
    public func run(onCommit: @escaping @Sendable () -> Void) async {
        let limits = output.batchLimits
        let limiter = AsyncLimiter(limit: limits.concurrency)
        let ledger = self.ledger
        let name = self.name
        let committer = OrderedCommitter { spans in
            ledger.commit(name, spans)
            onCommit()
        }
        let inFlight = InFlightCounter(ledger: ledger, output: name)
        let reader = SpoolReader(spool: spool)
        var position = ledger.checkpoint(name)
        var sequence = 0
        var lastTick = clock()

        await withDiscardingTaskGroup { group in
            var batch = Batch(sequence: 0, span: ResolvedSpan(end: nil))

            func launch(_ finished: Batch) async {
                await limiter.acquire()
                inFlight.add(1)
                group.addTask {
                    defer {
                        limiter.release()
                        inFlight.add(-1)
                    }
                    guard let span = await self.deliver(finished) else { return }  // cancelled: not resolved
                    committer.complete(finished.sequence, span)
                }
            }

            func cut() async {
                if batch.isEmpty && batch.span.end == nil { return }
                let finished = batch
                sequence += 1
                batch = Batch(sequence: sequence, span: ResolvedSpan(end: nil))
                await launch(finished)
            }

            while !Task.isCancelled {
                let now = clock()
                if now - lastTick >= 1 {
                    lastTick = now
                    let summaries = processor.tick(now: now)
                    if !summaries.isEmpty { await sendSummaries(summaries, sequence: &sequence, batch: &batch, launch: launch) }
                }
                // `drop_oldest` may have moved the checkpoint past what this loop was reading.
                let checkpoint = ledger.checkpoint(name)
                if position < checkpoint {
                    position = checkpoint
                    if batch.segment != nil && batch.segment! < checkpoint.segment {
                        batch = Batch(sequence: batch.sequence, span: ResolvedSpan(end: nil))
                    }
                }
                let metas = spool.records(from: position, maxBytes: readAheadBytes)
                if metas.isEmpty {
                    // Caught up: a started batch waits out the flush timeout for company. It sleeps
                    // rather than waking at every spool commit (a hundred or more a second under
                    // load, each a wake-up of this loop); what arrived meanwhile is read in one go.
                    if let opened = batch.openedAt, !spool.isClosed, ContinuousClock.now < opened + limits.flushTimeout {
                        try? await Task.sleep(until: min(opened + limits.flushTimeout, ContinuousClock.now + .seconds(1)))
                        continue
                    }
                    await cut()
                    if spool.isClosed { break }
                    await waitForRecordOrTick(position)
                    continue
                }
                if let segment = batch.segment, segment != metas[0].segment { await cut() }
                let records: [SpoolReadRecord]
                do throws(SpoolReader.ReadError) {
                    records = try reader.read(metas)
                } catch .segmentGone {
                    continue  // dropped under us; the checkpoint check above moves on
                } catch {
                    logger.error("pipeline: cannot read the spool", metadata: ["output": "\(name)", "error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                for record in records {
                    batch.segment = record.meta.segment
                    let first = record.meta.offset == position.offset && record.meta.segment == position.segment ? position.index : 0
                    var consumed = first == position.index && first > 0 ? position.consumedBytes : 0
                    guard let header = record.header else {
                        // Checksum failure in a sealed segment: the events cannot be read; count them.
                        logger.error("pipeline: corrupt spool record skipped", metadata: [
                            "output": "\(name)", "segment": "\(record.meta.segment)", "offset": "\(record.meta.offset)",
                            "error": "\(record.corruption ?? "")",
                        ])
                        let lost = record.meta.tally - EventTally(events: Int64(first), bytes: consumed)
                        batch.span.byInput[record.meta.input, default: OutcomeCounters()].dropped += lost
                        batch.span.end = SpoolPosition(segment: record.meta.segment, offset: record.meta.end)
                        position = batch.span.end!
                        continue
                    }
                    for index in first..<record.events.count {
                        let body = record.events[index]
                        let size = Int64(body.readableBytes)
                        let at = SpoolPosition(segment: record.meta.segment, offset: record.meta.offset, index: index, consumedBytes: consumed)
                        let event = SpooledEvent(
                            input: header.input, sourcetype: header.sourcetype, hostID: header.hostID, receivedAt: header.receivedAt,
                            id: at.eventID(spoolID: spool.spoolID), body: body)
                        let tally = EventTally(events: 1, bytes: size)
                        switch processor.process(event, now: clock()) {
                        case .forward(let copies):
                            let origin = batch.spooled.count
                            if batch.openedAt == nil { batch.openedAt = ContinuousClock.now }
                            batch.spooled.append((header.input, size))
                            for copy in copies {
                                batch.events.append(copy)
                                batch.origins.append(origin)
                                batch.bytes += copy.body.readableBytes
                            }
                            if copies.isEmpty { batch.span.byInput[header.input, default: OutcomeCounters()].forwarded += tally }
                        case .filtered(let route, let stage):
                            batch.span.byInput[header.input, default: OutcomeCounters()].filtered += tally
                            batch.span.filteredBy["\(route)/\(stage)", default: .zero] += tally
                        case .unrouted:
                            batch.span.byInput[header.input, default: OutcomeCounters()].filtered += tally
                            batch.span.filteredBy["unrouted", default: .zero] += tally
                        case .throttled(let route, let stage, let rule, _):
                            batch.span.byInput[header.input, default: OutcomeCounters()].throttled += tally
                            batch.span.throttledBy["\(route)/\(stage)/\(rule)", default: .zero] += tally
                        }
                        consumed += size
                        let next = index + 1 == record.events.count
                            ? SpoolPosition(segment: record.meta.segment, offset: record.meta.end)
                            : SpoolPosition(segment: record.meta.segment, offset: record.meta.offset, index: index + 1, consumedBytes: consumed)
                        batch.span.end = next
                        position = next
                        if batch.events.count >= limits.maxEvents || batch.bytes >= limits.maxBytes { await cut() }
                    }
                    if record.events.isEmpty || first >= record.events.count {
                        batch.span.end = SpoolPosition(segment: record.meta.segment, offset: record.meta.end)
                        position = batch.span.end!
                    }
                }
            }
            if !Task.isCancelled {
                await cut()
                let summaries = processor.flush()
                if !summaries.isEmpty { await sendSummaries(summaries, sequence: &sequence, batch: &batch, launch: launch) }
            }
        }
    }

    /// Throttle summaries go out as their own batches (they occupy no spool position).
    private func sendSummaries(_ summaries: [PipelineEvent], sequence: inout Int, batch: inout Batch, launch: (Batch) async -> Void) async {
        let limits = output.batchLimits
        var start = 0
        while start < summaries.count {
            let chunk = Array(summaries[start..<min(summaries.count, start + limits.maxEvents)])
            start += chunk.count
            // Keep order: whatever is being cut goes first.
            if !(batch.isEmpty && batch.span.end == nil) {
                let finished = batch
                sequence += 1
                batch = Batch(sequence: sequence, span: ResolvedSpan(end: nil))
                await launch(finished)
            }
            var summaryBatch = Batch(sequence: sequence, span: ResolvedSpan(end: nil))
            summaryBatch.events = chunk
            summaryBatch.origins = Array(repeating: -1, count: chunk.count)
            sequence += 1
            batch = Batch(sequence: sequence, span: ResolvedSpan(end: nil))
            await launch(summaryBatch)
        }
    }

    /// Waits for a new record, at most a second (throttle windows close on time, not on events).
    private func waitForRecordOrTick(_ position: SpoolPosition) async {
        let spool = self.spool
        let wait = Duration.seconds(1)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await spool.waitForRecord(atOrAfter: position) }
            group.addTask { try? await Task.sleep(for: wait) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Sleeps `delay` seconds, or less once another batch of this output got an answer.
    func backoff(_ delay: Double, unlessAnsweredSince answered: UInt64) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(delay * 1000))
        while ContinuousClock.now < deadline {
            if answeredSends.load(ordering: .relaxed) != answered { return }
            try await Task.sleep(for: min(.milliseconds(250), ContinuousClock.now.duration(to: deadline)))
        }
    }

    /// Sends a batch until every event is delivered or dead-lettered; nil if cancelled first.
    func deliver(_ batch: Batch) async -> ResolvedSpan? {
        var span = batch.span
        if batch.events.isEmpty { return span }
        var pending = Array(batch.events.indices)
        var rejected: [Int: String] = [:]
        var attempt = 0
        while !pending.isEmpty {
            if Task.isCancelled { return nil }
            // `drop_oldest` deleted this batch's segment while it waited: its events are already
            // counted as dropped, so sending them now would deliver events the books call lost.
            if let end = batch.span.end, end <= ledger.checkpoint(name) { return span }
            let result = await output.send(pending.map { batch.events[$0] })
            ledger.noteSendDetails(name, duplicates: result.duplicates, truncated: result.truncated)
            for (local, reason) in result.rejected where local < pending.count { rejected[pending[local]] = reason }
            let retrying = result.retry.filter { $0 >= 0 && $0 < pending.count && result.rejected[$0] == nil }.map { pending[$0] }
            if retrying.count < pending.count { answeredSends.add(1, ordering: .relaxed) }
            if retrying.isEmpty { break }
            let answeredBefore = answeredSends.load(ordering: .relaxed)
            attempt += 1
            let reason = result.retryReason ?? "receiver asked to retry"
            ledger.noteRetry(name, reason: reason, at: clock())
            // A configuration problem (bad token, wrong URL) is fixed by an operator, not by
            // time: those events wait in the spool rather than being dead-lettered.
            if retry.maxAttempts > 0 && attempt >= retry.maxAttempts && !result.configurationProblem {
                for index in retrying { rejected[index] = "gave up after \(attempt) attempts: \(reason)" }
                break
            }
            let delay = retry.delay(afterAttempt: attempt, retryAfter: result.retryAfter)
            logger.warning("pipeline: output failed; retrying", metadata: [
                "output": "\(name)", "events": "\(retrying.count)", "attempt": "\(attempt)", "reason": "\(LogText.escaped(reason))",
                "retry_in_s": "\(String(format: "%.2f", delay))",
            ])
            do { try await backoff(delay, unlessAnsweredSince: answeredBefore) } catch { return nil }
            pending = retrying
        }
        if !rejected.isEmpty {
            let entries = rejected.keys.sorted().map { DeadLetterFile.Entry(event: batch.events[$0], reason: rejected[$0]!) }
            // The checkpoint must not pass these events until they are safely in the dead-letter file.
            while true {
                do {
                    try deadLetters.write(entries, output: name)
                    break
                } catch {
                    logger.error("pipeline: cannot write the dead-letter file; retrying", metadata: ["output": "\(name)", "error": "\(error)"])
                    ledger.noteRetry(name, reason: "dead-letter write failed: \(error)", at: clock())
                    do { try await Task.sleep(for: .seconds(1)) } catch { return nil }
                }
            }
            logger.warning("pipeline: receiver refused events; dead-lettered", metadata: [
                "output": "\(name)", "events": "\(entries.count)", "reason": "\(LogText.escaped(entries[0].reason))", "file": "\(deadLetters.path)",
            ])
        }
        // One outcome per spooled event: dead-lettered if any of its copies was refused.
        var refusedOrigins = Set<Int>()
        for index in rejected.keys where batch.origins[index] >= 0 { refusedOrigins.insert(batch.origins[index]) }
        for (origin, spooled) in batch.spooled.enumerated() {
            let tally = EventTally(events: 1, bytes: spooled.bytes)
            if refusedOrigins.contains(origin) {
                span.byInput[spooled.input, default: OutcomeCounters()].deadLettered += tally
            } else {
                span.byInput[spooled.input, default: OutcomeCounters()].forwarded += tally
            }
        }
        span.summariesSent = Int64(batch.origins.enumerated().filter { $0.element < 0 && rejected[$0.offset] == nil }.count)
        return span
    }
}

/// Keeps the ledger's in-flight gauge for one output.
final class InFlightCounter: Sendable {
    let ledger: Ledger
    let output: String
    let count = Mutex(0)

    init(ledger: Ledger, output: String) {
        self.ledger = ledger
        self.output = output
    }

    func add(_ n: Int) {
        count.withLock { value in
            value += n
            ledger.setInFlight(output, value)
        }
    }
}
