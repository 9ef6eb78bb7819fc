import Foundation
import Logging
import NIOCore
import Synchronization

/// The event pipeline in one object: the durable spool that ingest appends to, one delivery loop
/// per output, the ledger of checkpoints and counts, and the per-query volume.
///
/// Life cycle: `init` opens (and recovers) the spool and the checkpoints; ``run()`` delivers
/// until ``shutdown()``, which refuses new appends, lets the outputs drain for up to
/// `delivery.drain_timeout`, persists the checkpoints and shuts the outputs down. Events still
/// spooled are delivered after the next start.
///
/// Delivery is at-least-once. Duplicates reach a receiver only when a batch was delivered but
/// the checkpoint after it was not yet persisted when Pomona died (kill -9, power loss: up to
/// the batches in flight plus ~0.2 s of commits), or when a receiver accepted a request but the
/// answer was lost (timeout) and it is resent. Event ids are derived from the spool position, so
/// a resent event carries the same id (Elasticsearch `_id`, HEC `event_id`) and can be deduplicated.
public final class Pipeline: Sendable {
    public let configuration: PipelineConfiguration
    public let spool: Spool
    public let ledger: Ledger
    public let deliveries: [OutputDelivery]
    public let queryVolume: QueryVolume
    let logger: Logger
    let control: Mutex<Control>
    let commitSignal: AsyncStream<Void>.Continuation
    let commitStream: AsyncStream<Void>

    struct Control {
        var stopRequested = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - outputs: built from `configuration.outputs` (``makeOutput(_:logger:eventLoopGroup:)``) or fakes in tests.
    ///   - processors: the stages per output name; outputs without one get ``PassThroughProcessing``.
    public init(configuration: PipelineConfiguration, dataDirectory: URL, outputs: [any EventOutput],
                processors: [String: any DeliveryProcessing] = [:], logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let spool = try Spool(options: configuration.spoolOptions(dataDirectory: dataDirectory), logger: logger)
        let ledger = try Ledger(spool: spool, outputs: outputs.map(\.name), logger: logger)
        self.spool = spool
        self.ledger = ledger
        spool.setObserver(ledger)
        let deadLetterDirectory = dataDirectory.appendingPathComponent("deadletter")
        deliveries = try outputs.map { output in
            OutputDelivery(
                output: output, processor: processors[output.name] ?? PassThroughProcessing(), spool: spool, ledger: ledger,
                deadLetters: try DeadLetterFile(
                    directory: deadLetterDirectory, output: output.name, maxBytes: configuration.delivery.deadLetterMaxBytes,
                    sync: configuration.spool.fsync != .never),
                retry: configuration.delivery.retry, logger: logger)
        }
        queryVolume = QueryVolume(directory: dataDirectory.appendingPathComponent("pipeline"))
        (commitStream, commitSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        control = Mutex(Control())
    }

    // MARK: - Ingest

    /// Appends one accepted request's events (already split: one JSON object each) and returns
    /// once they are durable. Throws ``SpoolError/full(maxBytes:)`` when the spool is full under
    /// the `block` policy: the caller must answer its sender with an error so it keeps the data.
    public func append(input: String, sourcetype: String, hostID: Int64?, events: [ByteBuffer], receivedAt: Date = Date()) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            append(input: input, sourcetype: sourcetype, hostID: hostID, events: events, receivedAt: receivedAt) { continuation.resume(with: $0) }
        }
    }

    /// The same without waiting: `done` is called once the events are durable (on the spool's
    /// writing thread; it must not block) or with the reason they were refused.
    public func append(
        input: String, sourcetype: String, hostID: Int64?, events: [ByteBuffer], receivedAt: Date = Date(),
        done: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        if events.isEmpty {
            done(.success(()))
            return
        }
        let time = receivedAt.timeIntervalSince1970
        let ledger = self.ledger, queryVolume = self.queryVolume
        let volume = sourcetype == "osquery:result" || sourcetype == "osquery:live" ? QueryVolume.tally(events) : [:]
        spool.append(input: input, sourcetype: sourcetype, hostID: hostID, receivedAt: time, events: events) { result in
            switch result {
            case .success:
                queryVolume.record(volume, at: time)
                done(.success(()))
            case .failure(let error):
                if case .full = error as? SpoolError { ledger.noteRefused(input: input) }
                done(.failure(error))
            }
        }
    }

    /// Live-query results (called by the live-query campaign code), one event per row.
    public func appendLive(hostID: Int64, events: [ByteBuffer], receivedAt: Date = Date()) async throws {
        try await append(input: "live", sourcetype: "osquery:live", hostID: hostID, events: events, receivedAt: receivedAt)
    }

    // MARK: - Running

    /// Delivers until ``shutdown()`` and the drain that follows; then persists and closes.
    public func run() async {
        let deliveries = self.deliveries
        let ledger = self.ledger
        let spool = self.spool
        let signal = commitSignal
        await withTaskGroup(of: Bool.self) { group in
            for delivery in deliveries {
                group.addTask {
                    await delivery.run(onCommit: { signal.yield() })
                    return true
                }
            }
            group.addTask {
                await self.persistLoop()
                return false
            }
            group.addTask {
                await spool.runIntervalSync()
                return false
            }
            group.addTask {
                await self.waitForStop()
                try? await Task.sleep(for: .milliseconds(Int64(self.configuration.delivery.drainTimeout * 1000)))
                if !Task.isCancelled {
                    self.logger.warning("pipeline: drain timeout; undelivered events stay spooled for the next start")
                }
                return false
            }
            var running = deliveries.count
            if running == 0 { await self.waitForStop() }
            while running > 0, let finished = await group.next() {
                if finished { running -= 1 } else if self.isStopping { break }
            }
            group.cancelAll()
        }
        for delivery in deliveries {
            do { try ledger.persist(delivery.output.name) } catch {
                logger.error("pipeline: cannot persist a checkpoint", metadata: ["output": "\(delivery.output.name)", "error": "\(error)"])
            }
            await delivery.output.shutdown()
        }
        releaseSegments()
        try? ledger.persistInputs()
        try? queryVolume.save()
    }

    /// Starts the shutdown: no more appends (ingest gets ``SpoolError/closed``), outputs drain.
    public func shutdown() async {
        let waiters = control.withLock { control in
            control.stopRequested = true
            let waiters = control.stopWaiters
            control.stopWaiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
        await spool.close()
    }

    var isStopping: Bool { control.withLock { $0.stopRequested } }

    private func waitForStop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = control.withLock { control in
                if control.stopRequested { return true }
                control.stopWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Persists checkpoints after commits (at most every 200 ms, so a busy output does not pay a
    /// file sync per batch), then deletes the segments every output is past.
    private func persistLoop() async {
        var lastVolumeSave = Date()
        for await _ in commitStream {
            for delivery in deliveries {
                do { try ledger.persist(delivery.output.name) } catch {
                    logger.error("pipeline: cannot persist a checkpoint", metadata: ["output": "\(delivery.output.name)", "error": "\(error)"])
                }
            }
            releaseSegments()
            if Date().timeIntervalSince(lastVolumeSave) > 10 {
                lastVolumeSave = Date()
                try? queryVolume.save()
                try? ledger.persistInputs()
            }
            do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
        }
    }

    private func releaseSegments() {
        if let position = ledger.releasablePosition { spool.release(before: position) }
    }

    // MARK: - Visibility

    public func stats() -> PipelineStats {
        let options = spool.options
        let (outputs, spoolStats) = spool.withSnapshot { snapshot in
            let outputs = ledger.outputStats(snapshot)
            let contents = snapshot.contents.values.reduce(EventTally.zero, +)
            return (outputs, (snapshot.totalBytes, snapshot.segmentCount, snapshot.recordCount, contents.events))
        }
        let (inputs, refused) = ledger.inputStats()
        return PipelineStats(
            spool: .init(
                bytes: spoolStats.0, maxBytes: options.maxBytes, segments: spoolStats.1, records: spoolStats.2, events: spoolStats.3,
                fsync: options.fsync.rawValue, whenFull: options.whenFull.rawValue, refusedAppends: refused),
            inputs: inputs, outputs: outputs, queries: queryVolume.snapshot())
    }
}
