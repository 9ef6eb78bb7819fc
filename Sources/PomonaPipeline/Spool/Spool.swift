#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Told about records as they become durable and about segments about to be dropped; called
/// while the spool's lock is held so that counts and spool contents never disagree. Must not
/// call back into the spool.
public protocol SpoolObserver: Sendable {
    func spoolCommitted(_ records: [SpoolRecordMeta])
    /// `drop_oldest` is about to delete segment `id`; `records` are all its records.
    func spoolWillDrop(segment id: UInt64, records: [SpoolRecordMeta], nextSegment: UInt64)
}

/// The durable spool: append-only segment files of checksummed records in one directory.
///
/// Appends are group-committed: whoever appends while a write+sync is running waits for the
/// next round, which writes every waiting record with one `pwrite` and one `fdatasync`. `append`
/// returns only when its record is durable per the fsync policy, so a caller may acknowledge
/// its sender right after. Readers (one per output) read committed records by position;
/// segments are deleted by ``release(before:)`` once every output is past them, or by the
/// `drop_oldest` policy when the spool is full.
public final class Spool: Sendable {
    public let options: SpoolOptions
    /// A random id fixed at creation; prefixes event ids so two spools never mint the same id.
    public let spoolID: String
    let logger: Logger
    let state: Mutex<State>
    static let segmentSuffix = ".seg"

    /// Called once an appended record is durable (or with why it is not).
    public typealias AppendCompletion = @Sendable (Result<SpoolPosition, any Error>) -> Void

    struct Pending {
        var metas: [SpoolRecordMeta]  // segment/offset filled at write time
        var frame: ByteBuffer
        var done: AppendCompletion
    }

    struct State {
        var segments: [SegmentState] = []
        /// File descriptor of the last segment (the one appended to).
        var writeFD: Int32 = -1
        var pending: [Pending] = []
        var pendingBytes: Int64 = 0
        var flushing = false
        /// When the last round's write+sync finished (the commit delay applies only under load).
        var lastRoundEnd: ContinuousClock.Instant?
        /// Write+sync rounds so far (each one `fdatasync` under `always`).
        var rounds = 0
        var syncRequested = false
        var closed = false
        var observer: (any SpoolObserver)?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var committedBytes: Int64 { segments.reduce(0) { $0 + $1.size } }
    }

    public init(options: SpoolOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        let directory = options.directory.path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw SpoolError.io("cannot create \(directory): \(error.localizedDescription)")
        }
        spoolID = try Spool.loadOrCreateID(directory: directory)
        var state = State()
        state.segments = try SpoolRecovery.open(directory: directory, logger: logger)
        if state.segments.isEmpty {
            state.segments = [try Spool.createSegment(id: 1, directory: directory)]
        }
        let last = state.segments[state.segments.count - 1]
        state.writeFD = try FileIO.open(last.path, O_WRONLY)
        self.state = Mutex(state)
    }

    static func loadOrCreateID(directory: String) throws(SpoolError) -> String {
        let path = (directory as NSString).appendingPathComponent("spool-id")
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if id.count >= 8, id.allSatisfy({ $0.isHexDigit }) { return id }
        }
        var rng = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        try FileIO.atomicWrite(Array((id + "\n").utf8), to: path, sync: true)
        return id
    }

    static func segmentPath(directory: String, id: UInt64) -> String {
        (directory as NSString).appendingPathComponent(String(format: "%016llu", id) + segmentSuffix)
    }

    static func createSegment(id: UInt64, directory: String) throws(SpoolError) -> SegmentState {
        let path = segmentPath(directory: directory, id: id)
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL)
        Glibc.close(fd)
        FileIO.syncDirectory(directory)
        return SegmentState(id: id, path: path, size: 0)
    }

    public func setObserver(_ observer: any SpoolObserver) {
        state.withLock { $0.observer = observer }
    }

    // MARK: - Append

    /// Appends one record (one accepted request) and returns once it is durable per the fsync
    /// policy. Throws ``SpoolError/full(maxBytes:)`` under the `block` policy when there is no room.
    @discardableResult
    public func append(input: String, sourcetype: String, hostID: Int64?, receivedAt: Double, events: [ByteBuffer]) async throws -> SpoolPosition {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<SpoolPosition, any Error>) in
            append(input: input, sourcetype: sourcetype, hostID: hostID, receivedAt: receivedAt, events: events) { continuation.resume(with: $0) }
        }
    }

    /// Appends one record without waiting: `done` is called once it is durable per the fsync
    /// policy, on the thread that wrote it (so it must not block), or right away when the record
    /// is refused. This is what lets `/log` be answered without a task: the request's event loop
    /// appends, the flushing thread calls back, and the answer goes out on the loop.
    public func append(input: String, sourcetype: String, hostID: Int64?, receivedAt: Double, events: [ByteBuffer], done: @escaping AppendCompletion) {
        let eventBytes = events.reduce(0) { $0 + $1.readableBytes }
        let header = SpoolRecordHeader(
            input: input, sourcetype: sourcetype, hostID: hostID, receivedAt: receivedAt, eventCount: events.count, eventBytes: Int64(eventBytes))
        let size = SpoolRecordCodec.frameSize(input: input, sourcetype: sourcetype, events: events)
        if size > options.maxRecordBytes {
            done(.failure(SpoolError.recordTooLarge(bytes: size, limit: options.maxRecordBytes)))
            return
        }
        var frame = ByteBufferAllocator().buffer(capacity: size)
        SpoolRecordCodec.encode(header, events: events, into: &frame)
        let meta = SpoolRecordMeta(segment: 0, offset: 0, frameBytes: frame.readableBytes, input: input, eventCount: events.count, eventBytes: Int64(eventBytes))
        let outcome: (start: Bool, error: (any Error)?) = state.withLock { state in
            if state.closed { return (false, SpoolError.closed) }
            if let error = makeRoom(&state, for: Int64(frame.readableBytes)) { return (false, error) }
            state.pending.append(Pending(metas: [meta], frame: frame, done: done))
            state.pendingBytes += Int64(frame.readableBytes)
            if state.flushing { return (false, nil) }
            state.flushing = true
            return (true, nil)
        }
        if let error = outcome.error {
            done(.failure(error))
        } else if outcome.start {
            startFlushing()
        }
    }

    /// Frees space for `bytes` more, or says why it cannot. Under `drop_oldest`, deletes the
    /// oldest sealed segments (the observer counts their unresolved events as dropped).
    private func makeRoom(_ state: inout State, for bytes: Int64) -> SpoolError? {
        func used(_ s: State) -> Int64 { s.committedBytes + s.pendingBytes }
        if used(state) + bytes <= options.maxBytes { return nil }
        guard options.whenFull == .dropOldest else { return .full(maxBytes: options.maxBytes) }
        while used(state) + bytes > options.maxBytes, state.segments.count > 1 {
            let oldest = state.segments.removeFirst()
            state.observer?.spoolWillDrop(segment: oldest.id, records: oldest.records, nextSegment: state.segments[0].id)
            unlink(oldest.path)
            logger.warning("spool full: dropped the oldest segment", metadata: [
                "segment": "\(oldest.id)", "records": "\(oldest.records.count)",
                "events": "\(oldest.records.reduce(0) { $0 + $1.eventCount })",
            ])
        }
        return used(state) + bytes <= options.maxBytes ? nil : .full(maxBytes: options.maxBytes)
    }

    /// Runs ``flushRounds()`` on a thread of NIO's blocking pool (write and `fdatasync` block, and
    /// must never hold up the event loops or the cooperative pool); `finished` runs after it.
    private func startFlushing(finished: (@Sendable () -> Void)? = nil) {
        NIOThreadPool.singleton.submit { poolState in
            if poolState == .active {
                self.flushRounds()
            } else {
                self.failPending(SpoolError.io("the I/O thread pool has stopped"))
            }
            finished?()
        }
    }

    /// Fails everything pending and stops flushing (the thread pool is gone: only at exit).
    private func failPending(_ error: SpoolError) {
        let pending = state.withLock { state in
            let pending = state.pending
            state.pending = []
            state.pendingBytes = 0
            state.flushing = false
            return pending
        }
        for p in pending { p.done(.failure(error)) }
    }

    /// Writes and syncs rounds of pending records until none are left (blocking; on the I/O pool).
    private func flushRounds() {
        while true {
            if options.fsync == .always, options.commitDelay > .zero,
                let last = state.withLock({ $0.lastRoundEnd }), ContinuousClock.now - last < .milliseconds(50)
            {
                // Under load, let more appends join this round (one write and one sync for all).
                let (seconds, attoseconds) = options.commitDelay.components
                var delay = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                nanosleep(&delay, nil)
            }
            struct Round {
                var frames: ByteBuffer
                var pending: [Pending]
                var fd: Int32
                var path: String
                var start: Int64
                var rotateTo: UInt64?
                var sync: Bool
            }
            let round: Round? = state.withLock { state in
                if state.pending.isEmpty && !state.syncRequested {
                    state.flushing = false
                    return nil
                }
                let pending = state.pending
                state.pending = []
                var frames = ByteBufferAllocator().buffer(capacity: Int(state.pendingBytes))
                for p in pending {
                    var f = p.frame
                    frames.writeBuffer(&f)
                }
                let last = state.segments[state.segments.count - 1]
                let rotate = !pending.isEmpty && last.size > 0 && last.size + Int64(frames.readableBytes) > Int64(options.segmentBytes)
                let sync = options.fsync == .always || (options.fsync == .interval && state.syncRequested)
                state.syncRequested = false
                return Round(
                    frames: frames, pending: pending, fd: state.writeFD, path: last.path, start: rotate ? 0 : last.size,
                    rotateTo: rotate ? last.id + 1 : nil, sync: sync)
            }
            guard let round else { return }
            let spoolOptions = self.options
            let frames = round.frames, oldFD = round.fd, oldPath = round.path, start = round.start
            let rotateTo = round.rotateTo, sync = round.sync
            do {
                let result: (fd: Int32, segment: SegmentState?) = try {
                    var fd = oldFD
                    var path = oldPath
                    var created: SegmentState?
                    if let next = rotateTo {
                        // Seal the full segment: its bytes must be on disk before records land in the next.
                        if spoolOptions.fsync != .never { try FileIO.fdatasync(fd, path: path) }
                        let segment = try Spool.createSegment(id: next, directory: spoolOptions.directory.path)
                        do {
                            fd = try FileIO.open(segment.path, O_WRONLY)
                        } catch {
                            unlink(segment.path)
                            throw error
                        }
                        created = segment
                        path = segment.path
                    }
                    if frames.readableBytes > 0 {
                        do {
                            try FileIO.pwriteAll(fd, frames, at: start, path: path)
                            if sync { try FileIO.fdatasync(fd, path: path) }
                        } catch {
                            if created != nil {
                                // The new segment never became ours: drop it and keep appending to the
                                // old one, whose descriptor stays open, so the next round rotates again.
                                // (Closing the old descriptor first left every later round failing with
                                // EBADF after a disk-full error at a rotation, until a restart.)
                                Glibc.close(fd)
                                unlink(path)
                            } else {
                                // Leave no torn record behind for the next round to append after.
                                _ = ftruncate(fd, off_t(start))
                            }
                            throw error
                        }
                    } else if sync {
                        try FileIO.fdatasync(fd, path: path)
                    }
                    if created != nil { Glibc.close(oldFD) }
                    return (fd, created)
                }()
                var positions: [SpoolPosition] = []
                let waiters = state.withLock { state in
                    state.lastRoundEnd = ContinuousClock.now
                    state.rounds += 1
                    if let segment = result.segment {
                        state.segments.append(segment)
                        state.writeFD = result.fd
                    }
                    let index = state.segments.count - 1
                    var offset = state.segments[index].size
                    var committed: [SpoolRecordMeta] = []
                    for p in round.pending {
                        var meta = p.metas[0]
                        meta.segment = state.segments[index].id
                        meta.offset = offset
                        offset += Int64(meta.frameBytes)
                        state.segments[index].add(meta)
                        committed.append(meta)
                        positions.append(meta.start)
                    }
                    state.segments[index].size = offset
                    state.pendingBytes -= Int64(round.frames.readableBytes)
                    if !committed.isEmpty { state.observer?.spoolCommitted(committed) }
                    let waiters = state.waiters
                    state.waiters = [:]
                    return waiters
                }
                // Resumed outside the lock: resuming takes the task's status lock, and a task being
                // cancelled holds that lock while its cancellation handler waits for ours (deadlock
                // seen under load when the delivery loop's timed wait cancelled `waitForRecord`).
                for (_, waiter) in waiters { waiter.resume() }
                for (p, position) in zip(round.pending, positions) { p.done(.success(position)) }
            } catch {
                logger.error("spool write failed", metadata: ["error": "\(error)"])
                state.withLock { $0.pendingBytes -= Int64(round.frames.readableBytes) }
                for p in round.pending { p.done(.failure(error)) }
            }
        }
    }

    /// Under the `interval` policy: sync what was written since the last sync (called by a timer).
    public func syncNow() async {
        let start: Bool = state.withLock { state in
            if state.closed { return false }
            state.syncRequested = true
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        if start {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                startFlushing { continuation.resume() }
            }
        }
    }

    /// Runs the `interval` fsync timer until cancelled (a no-op for the other policies).
    public func runIntervalSync() async {
        guard options.fsync == .interval else { return }
        while !Task.isCancelled {
            do { try await Task.sleep(for: options.fsyncInterval) } catch { break }
            await syncNow()
        }
    }

    // MARK: - Positions and waiting

    /// True once ``close()`` began: no more appends; readers drain what is there.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// The position after the last committed record.
    public var endPosition: SpoolPosition {
        state.withLock { state in
            let last = state.segments[state.segments.count - 1]
            return SpoolPosition(segment: last.id, offset: last.size)
        }
    }

    /// The first event still in the spool.
    public var startPosition: SpoolPosition {
        state.withLock { SpoolPosition(segment: $0.segments[0].id, offset: 0) }
    }

    /// Returns once a record exists at or after `position`, or the spool is closed, or the task is
    /// cancelled. Never polls: the flush that commits a record wakes every waiter.
    public func waitForRecord(atOrAfter position: SpoolPosition) async {
        let id: Int? = state.withLock { state in
            if state.closed || Spool.hasRecord(state, atOrAfter: position) { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.closed || Task.isCancelled || Spool.hasRecord(state, atOrAfter: position) { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    static func hasRecord(_ state: State, atOrAfter position: SpoolPosition) -> Bool {
        for segment in state.segments.reversed() {
            if segment.id < position.segment { return false }
            if segment.id > position.segment {
                if !segment.records.isEmpty { return true }
                continue
            }
            return segment.firstRecord(atOrAfter: position.offset) < segment.records.count
        }
        return false
    }

    /// Record metas from `position` (the record containing it, or the next one) onwards, up to
    /// about `maxBytes` of frames (at least one record if there is one).
    public func records(from position: SpoolPosition, maxBytes: Int, maxRecords: Int = 4096) -> [SpoolRecordMeta] {
        state.withLock { state in
            var out: [SpoolRecordMeta] = []
            var bytes = 0
            for segment in state.segments where segment.id >= position.segment {
                var i = segment.id == position.segment ? segment.firstRecord(atOrAfter: position.offset) : 0
                while i < segment.records.count {
                    let meta = segment.records[i]
                    if !out.isEmpty && (bytes + meta.frameBytes > maxBytes || out.count >= maxRecords) { return out }
                    out.append(meta)
                    bytes += meta.frameBytes
                    i += 1
                }
                // Records of one read come from one segment (one contiguous file range).
                if !out.isEmpty { return out }
            }
            return out
        }
    }

    public func segmentExists(_ id: UInt64) -> Bool {
        state.withLock { state in state.segments.contains { $0.id == id } }
    }

    /// Events and bytes by input from `position` to the end: what an output at that checkpoint
    /// still has to resolve.
    public func remaining(from position: SpoolPosition) -> [String: EventTally] {
        state.withLock { Spool.remaining($0, from: position) }
    }

    static func remaining(_ state: State, from position: SpoolPosition) -> [String: EventTally] {
        var result: [String: EventTally] = [:]
        for segment in state.segments where segment.id >= position.segment {
            if segment.id == position.segment {
                result.add(segment.remaining(from: position))
            } else {
                result.add(segment.totals)
            }
        }
        return result
    }

    /// Runs `body` with the spool's lock held, for snapshots that must agree with the spool's
    /// contents (accounting). `body` must not call the spool.
    public func withSnapshot<T>(_ body: (SpoolSnapshot) -> T) -> T {
        state.withLock { state in body(SpoolSnapshot(state: state)) }
    }

    // MARK: - Deletion

    /// Deletes every segment wholly before `position.segment` (never the one being appended to).
    /// Called once every output's persisted checkpoint is past them.
    public func release(before position: SpoolPosition) {
        let doomed: [SegmentState] = state.withLock { state in
            var doomed: [SegmentState] = []
            while state.segments.count > 1, state.segments[0].id < position.segment {
                doomed.append(state.segments.removeFirst())
            }
            return doomed
        }
        for segment in doomed { unlink(segment.path) }
        if !doomed.isEmpty { FileIO.syncDirectory(options.directory.path) }
    }

    // MARK: - Shutdown

    /// Refuses new appends, waits for the round in progress, syncs and closes the file.
    public func close() async {
        let waiters = state.withLock { state in
            state.closed = true
            let waiters = state.waiters
            state.waiters = [:]
            return waiters
        }
        for (_, waiter) in waiters { waiter.resume() }
        while state.withLock({ $0.flushing }) { try? await Task.sleep(for: .milliseconds(5)) }
        state.withLock { state in
            if state.writeFD >= 0 {
                if options.fsync != .never { _ = try? FileIO.fdatasync(state.writeFD, path: "spool") }
                Glibc.close(state.writeFD)
                state.writeFD = -1
            }
        }
    }
}

/// A consistent view of the spool, handed out under its lock.
public struct SpoolSnapshot {
    let state: Spool.State

    public var totalBytes: Int64 { state.committedBytes }
    public var segmentCount: Int { state.segments.count }
    public var recordCount: Int { state.segments.reduce(0) { $0 + $1.records.count } }
    public var oldestSegment: UInt64 { state.segments[0].id }
    public var pendingBytes: Int64 { state.pendingBytes }

    public func remaining(from position: SpoolPosition) -> [String: EventTally] {
        Spool.remaining(state, from: position)
    }

    /// Events and bytes by input across the whole spool.
    public var contents: [String: EventTally] {
        var result: [String: EventTally] = [:]
        for segment in state.segments { result.add(segment.totals) }
        return result
    }
}
