import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
@testable import PomonaPipeline

func temporarySpoolDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("pomona-spool-\(UUID().uuidString)")
}

func events(_ texts: [String]) -> [ByteBuffer] { texts.map { ByteBuffer(string: $0) } }

func spoolOptions(_ directory: URL, segmentBytes: Int = 1 << 20, maxBytes: Int64 = 64 << 20, whenFull: SpoolFullPolicy = .block) -> SpoolOptions {
    var options = SpoolOptions(directory: directory)
    options.segmentBytes = segmentBytes
    options.maxBytes = maxBytes
    options.whenFull = whenFull
    return options
}

/// Every event in the spool, in order, as text.
func readAll(_ spool: Spool) throws -> [String] {
    let reader = SpoolReader(spool: spool)
    var position = spool.startPosition
    var out: [String] = []
    while true {
        let metas = spool.records(from: position, maxBytes: 1 << 20)
        if metas.isEmpty { return out }
        for record in try reader.read(metas) {
            #expect(record.corruption == nil)
            out.append(contentsOf: record.events.map { String(buffer: $0) })
            position = SpoolPosition(segment: record.meta.segment, offset: record.meta.end)
        }
    }
}

@Suite struct SpoolTests {
    let logger = Logger(label: "test")

    /// Readers waiting for the next record are cancelled (timed waits) while appends commit and
    /// wake waiters: the spool once woke them under its lock while a cancelled waiter's handler
    /// wanted that lock, and the two threads deadlocked (a hung server under load). A deadlock
    /// here hangs the test until its time limit.
    /// Requests arriving 2 ms apart while the spool is busy share rounds (one write and one
    /// `fdatasync` each) when a commit delay is set; without one each gets its own.
    @Test(arguments: [(Duration.milliseconds(40), true), (Duration.zero, false)])
    func busyAppendsShareSyncsUnderTheCommitDelay(delay: Duration, shared: Bool) async throws {
        var options = spoolOptions(temporarySpoolDirectory())
        options.commitDelay = delay
        let spool = try Spool(options: options, logger: logger)
        try await spool.append(input: "i", sourcetype: "s", hostID: 1, receivedAt: 0, events: events(["{}"]))  // now "busy"
        let before = spool.state.withLock { $0.rounds }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<10 {
                group.addTask {
                    try await Task.sleep(for: .milliseconds(2 * i))
                    try await spool.append(input: "i", sourcetype: "s", hostID: 1, receivedAt: 0, events: events(["{\"i\":\(i)}"]))
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        let rounds = spool.state.withLock { $0.rounds } - before
        #expect(try readAll(spool).count == 11)
        await spool.close()
        if shared {
            if elapsed < .milliseconds(200) { #expect(rounds <= 3, "\(rounds) rounds for 10 appends in \(elapsed)") }
        } else if elapsed < .milliseconds(100) {
            // (On a loaded machine slow syncs group requests by themselves; nothing to compare then.)
            #expect(rounds >= 4, "\(rounds) rounds for 10 appends in \(elapsed)")
        }
    }

    @Test(.timeLimit(.minutes(1))) func cancelledWaitsRacingCommitsNeverDeadlock() async throws {
        var options = spoolOptions(temporarySpoolDirectory())
        options.fsync = .never
        let spool = try Spool(options: options, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 0..<3_000 {
                    _ = try await spool.append(input: "i", sourcetype: "s", hostID: 1, receivedAt: 0, events: events(["{\"i\":\(i)}"]))
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<3_000 {
                        let next = spool.endPosition
                        await withTaskGroup(of: Void.self) { waits in
                            waits.addTask { await spool.waitForRecord(atOrAfter: next) }
                            waits.addTask { await Task.yield() }
                            await waits.next()
                            waits.cancelAll()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        await spool.close()
    }

    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func appendsReadBackInOrderAndSurviveReopen() async throws {
        let directory = temporarySpoolDirectory()
        let spool = try Spool(options: spoolOptions(directory), logger: logger)
        try await spool.append(input: "osquery", sourcetype: "osquery:result", hostID: 7, receivedAt: 100, events: events([#"{"a":1}"#, #"{"a":2}"#]))
        try await spool.append(input: "edr", sourcetype: "collector:edr", hostID: nil, receivedAt: 101, events: events([#"{"b":1}"#]))
        #expect(try readAll(spool) == [#"{"a":1}"#, #"{"a":2}"#, #"{"b":1}"#])
        let id = spool.spoolID
        await spool.close()

        let reopened = try Spool(options: spoolOptions(directory), logger: logger)
        #expect(reopened.spoolID == id)
        #expect(try readAll(reopened) == [#"{"a":1}"#, #"{"a":2}"#, #"{"b":1}"#])
        let metas = reopened.records(from: reopened.startPosition, maxBytes: 1 << 20)
        let records = try SpoolReader(spool: reopened).read(metas)
        #expect(records[0].header == SpoolRecordHeader(input: "osquery", sourcetype: "osquery:result", hostID: 7, receivedAt: 100, eventCount: 2, eventBytes: 14))
        #expect(records[1].header?.hostID == nil)
        #expect(reopened.remaining(from: reopened.startPosition) == ["osquery": EventTally(events: 2, bytes: 14), "edr": EventTally(events: 1, bytes: 7)])
        await reopened.close()
    }

    @Test func tornTailIsTruncatedAndCompleteRecordsKept() async throws {
        let directory = temporarySpoolDirectory()
        let spool = try Spool(options: spoolOptions(directory), logger: logger)
        for i in 0..<5 { try await spool.append(input: "osquery", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"n":\#(i)}"#])) }
        let end = spool.endPosition
        await spool.close()
        let path = Spool.segmentPath(directory: directory.path, id: end.segment)
        // Cut the last record in half, as a crash mid-write would.
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size - 5))
        try handle.close()

        let reopened = try Spool(options: spoolOptions(directory), logger: logger)
        #expect(try readAll(reopened) == (0..<4).map { #"{"n":\#($0)}"# })
        // Appending after recovery continues cleanly.
        try await reopened.append(input: "osquery", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"n":"after"}"#]))
        #expect(try readAll(reopened).last == #"{"n":"after"}"#)
        await reopened.close()
        let again = try Spool(options: spoolOptions(directory), logger: logger)
        #expect(try readAll(again).count == 5)
        await again.close()
    }

    @Test func corruptTailBytesAreTruncated() async throws {
        let directory = temporarySpoolDirectory()
        let spool = try Spool(options: spoolOptions(directory), logger: logger)
        try await spool.append(input: "i", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"ok":1}"#]))
        try await spool.append(input: "i", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"ok":2}"#]))
        let end = spool.endPosition
        await spool.close()
        let path = Spool.segmentPath(directory: directory.path, id: end.segment)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 2] ^= 0xFF  // flip a byte inside the last record's payload
        try bytes.write(to: URL(fileURLWithPath: path))
        let reopened = try Spool(options: spoolOptions(directory), logger: logger)
        #expect(try readAll(reopened) == [#"{"ok":1}"#])
        await reopened.close()
    }

    @Test func concurrentAppendsShareSyncsAndAllLand() async throws {
        let directory = temporarySpoolDirectory()
        let spool = try Spool(options: spoolOptions(directory, segmentBytes: 8 << 10), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<16 {
                group.addTask {
                    for i in 0..<50 {
                        try await spool.append(input: "t\(t)", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"t":\#(t),"i":\#(i)}"#]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = try readAll(spool)
        #expect(all.count == 800)
        #expect(Set(all).count == 800)
        // Per appender, order is kept.
        for t in 0..<16 {
            let mine = all.filter { $0.hasPrefix(#"{"t":\#(t),"#) }
            #expect(mine == (0..<50).map { #"{"t":\#(t),"i":\#($0)}"# })
        }
        #expect(spool.withSnapshot { $0.segmentCount } > 1, "small segments rotate")
        await spool.close()
        let reopened = try Spool(options: spoolOptions(directory, segmentBytes: 8 << 10), logger: logger)
        #expect(try readAll(reopened).count == 800)
        await reopened.close()
    }

    @Test func fullSpoolBlocksUnderTheBlockPolicy() async throws {
        let directory = temporarySpoolDirectory()
        let spool = try Spool(options: spoolOptions(directory, segmentBytes: 4096, maxBytes: 16384), logger: logger)
        let big = String(repeating: "x", count: 1000)
        var accepted = 0
        var refused: (any Error)?
        for _ in 0..<40 {
            do {
                try await spool.append(input: "i", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"x":"\#(big)"}"#]))
                accepted += 1
            } catch {
                refused = error
                break
            }
        }
        #expect(refused as? SpoolError == .full(maxBytes: 16384))
        #expect(accepted > 5)
        #expect(try readAll(spool).count == accepted, "nothing accepted was dropped")
        // Releasing consumed segments makes room again.
        spool.release(before: spool.endPosition)
        try await spool.append(input: "i", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"x":"again"}"#]))
        await spool.close()
    }

    @Test func dropOldestDeletesWholeSegmentsAndTellsTheObserver() async throws {
        final class Recorder: SpoolObserver, @unchecked Sendable {
            // Only touched under the spool's lock (observer calls happen there).
            var dropped: [(UInt64, Int)] = []
            func spoolCommitted(_ records: [SpoolRecordMeta]) {}
            func spoolWillDrop(segment id: UInt64, records: [SpoolRecordMeta], nextSegment: UInt64) {
                dropped.append((id, records.reduce(0) { $0 + $1.eventCount }))
            }
        }
        let directory = temporarySpoolDirectory()
        let spool = try Spool(options: spoolOptions(directory, segmentBytes: 4096, maxBytes: 16384, whenFull: .dropOldest), logger: logger)
        let recorder = Recorder()
        spool.setObserver(recorder)
        let big = String(repeating: "y", count: 1000)
        for i in 0..<60 {
            try await spool.append(input: "i", sourcetype: "s", hostID: nil, receivedAt: 0, events: events([#"{"i":\#(i),"y":"\#(big)"}"#]))
        }
        let left = try readAll(spool)
        let droppedEvents = spool.withSnapshot { _ in recorder.dropped.reduce(0) { $0 + $1.1 } }
        #expect(droppedEvents > 0)
        #expect(left.count + droppedEvents == 60)
        #expect(left.last!.hasPrefix(#"{"i":59,"#), "the newest is kept")
        #expect(spool.withSnapshot { $0.totalBytes } <= 16384)
        await spool.close()
    }
}
