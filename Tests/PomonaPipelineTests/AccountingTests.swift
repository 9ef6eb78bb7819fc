import Foundation
import Logging
import NIOCore
import Testing
@testable import PomonaPipeline

@Suite struct AccountingTests {
    let logger = Logger(label: "test")

    @Test func countsBalanceAndSurviveARestart() async throws {
        let directory = temporarySpoolDirectory()
        // First life: the receiver is down; everything stays spooled.
        let down = FakeOutput(name: "siem", down: true)
        let first = try Pipeline(configuration: fastConfiguration(), dataDirectory: directory, outputs: [down], logger: logger)
        var running = RunningPipeline(first)
        let sent = try await appendNumbered(first, records: 8, perRecord: 10)
        var stats = try await running.wait { $0.outputs[0].retries > 0 }
        #expect(stats.outputs[0].totals.received.events == 80)
        #expect(stats.outputs[0].totals.stillSpooled.events == 80)
        #expect(stats.outputs[0].totals.balances)
        await running.stop()

        // Second life: the receiver is back; everything spooled before is delivered.
        let up = FakeOutput(name: "siem")
        let second = try Pipeline(configuration: fastConfiguration(), dataDirectory: directory, outputs: [up], logger: logger)
        running = RunningPipeline(second)
        stats = try await running.wait { $0.outputs[0].totals.forwarded.events == 80 }
        let more = try await appendNumbered(second, records: 2, perRecord: 10, tag: "late")
        stats = try await running.wait { $0.outputs[0].totals.forwarded.events == 100 }
        await running.stop()
        #expect(up.delivered.sorted() == (sent + more).sorted())
        #expect(stats.outputs[0].totals.received.events == 100)
        #expect(stats.outputs[0].totals.balances)
        #expect(stats.inputs.first { $0.name == "osquery" }?.received.events == 100)

        // Third life: the persisted counters are read back; nothing is delivered twice.
        let again = FakeOutput(name: "siem")
        let third = try Pipeline(configuration: fastConfiguration(), dataDirectory: directory, outputs: [again], logger: logger)
        let restarted = third.stats()
        #expect(restarted.outputs[0].totals.forwarded.events == 100)
        #expect(restarted.outputs[0].totals.received.events == 100)
        #expect(restarted.outputs[0].totals.balances)
        running = RunningPipeline(third)
        try await Task.sleep(for: .milliseconds(100))
        await running.stop()
        #expect(again.delivered.isEmpty)
        // Consumed segments were deleted; only the segment being appended to may remain.
        #expect(third.spool.withSnapshot { $0.segmentCount } == 1)
    }

    @Test func dropOldestCountsDroppedEventsAndStillBalances() async throws {
        let down = FakeOutput(name: "siem", down: true)
        let configuration = fastConfiguration(maxBytes: 16 << 20, segmentBytes: 1 << 20, whenFull: .dropOldest)
        let pipeline = try Pipeline(configuration: configuration, dataDirectory: temporarySpoolDirectory(), outputs: [down], logger: logger)
        let running = RunningPipeline(pipeline)
        let payload = String(repeating: "z", count: 100_000)
        for i in 0..<250 {
            try await pipeline.append(input: "edr", sourcetype: "collector:edr", hostID: nil, events: events([#"{"i":\#(i),"z":"\#(payload)"}"#]))
        }
        let stats = pipeline.stats()
        #expect(stats.outputs[0].totals.dropped.events > 0)
        #expect(stats.outputs[0].totals.received.events == 250)
        #expect(stats.outputs[0].totals.balances, "\(stats.outputs[0].totals)")
        #expect(stats.spool.bytes <= 16 << 20)
        // The receiver comes back: what was not dropped is delivered, and the books still balance.
        down.setDown(false)
        let after = try await running.wait { $0.outputs[0].totals.stillSpooled == .zero }
        await running.stop()
        #expect(after.outputs[0].totals.forwarded.events + after.outputs[0].totals.dropped.events == 250)
        #expect(after.outputs[0].totals.balances)
        #expect(Int64(down.delivered.count) == after.outputs[0].totals.forwarded.events)
    }

    @Test func fullSpoolRefusesAndCountsTheRefusal() async throws {
        let down = FakeOutput(name: "siem", down: true)
        let configuration = fastConfiguration(maxBytes: 16 << 20, segmentBytes: 1 << 20)
        let pipeline = try Pipeline(configuration: configuration, dataDirectory: temporarySpoolDirectory(), outputs: [down], logger: logger)
        let running = RunningPipeline(pipeline)
        let payload = String(repeating: "z", count: 100_000)
        var accepted = 0
        var refusal: (any Error)?
        for i in 0..<250 {
            do {
                try await pipeline.append(input: "edr", sourcetype: "collector:edr", hostID: nil, events: events([#"{"i":\#(i),"z":"\#(payload)"}"#]))
                accepted += 1
            } catch {
                refusal = error
                break
            }
        }
        #expect(refusal as? SpoolError == .full(maxBytes: 16 << 20))
        let stats = pipeline.stats()
        #expect(stats.spool.refusedAppends == 1)
        #expect(stats.outputs[0].totals.received.events == Int64(accepted))
        #expect(stats.outputs[0].totals.dropped == .zero)
        down.setDown(false)
        let after = try await running.wait { $0.outputs[0].totals.forwarded.events == Int64(accepted) }
        await running.stop()
        #expect(after.outputs[0].totals.balances)
    }

    @Test func queryVolumeIsCountedPerDayAndName() throws {
        let volume = QueryVolume(directory: temporarySpoolDirectory())
        volume.record(events([#"{"name":"pack_a","x":1}"#, #"{"name":"pack_a","x":22}"#, #"{"x":1,"name":"b"}"#]), at: 86400 * 3 + 5)
        let snapshot = volume.snapshot()
        #expect(snapshot.first { $0.name == "pack_a" } == PipelineStats.QueryVolume(day: "1970-01-04", name: "pack_a", events: 2, bytes: 47))
        #expect(snapshot.first { $0.name == "b" }?.events == 1)
        try volume.save()
        let reloaded = QueryVolume(directory: URL(fileURLWithPath: (volume.path as NSString).deletingLastPathComponent))
        #expect(reloaded.snapshot() == snapshot)
        #expect(QueryVolume.day(1_764_460_800) == "2025-11-30")
    }

    @Test func queryVolumeBoundsNamesPerDayAndKeepsDays() {
        let volume = QueryVolume(directory: temporarySpoolDirectory(), keepDays: 2, maxNamesPerDay: 2)
        volume.record(events([#"{"name":"a"}"#, #"{"name":"b"}"#]), at: 86400 * 10)
        volume.record(events([#"{"name":"c"}"#, #"{"name":"d"}"#]), at: 86400 * 10 + 30)
        volume.record(events([#"{"name":"a"}"#, #"{"name":"e"}"#]), at: 86400 * 10 + 60)
        let day = volume.snapshot().filter { $0.day == "1970-01-11" }
        // The first two names; c, d and e under (other); a still counted by name.
        #expect(day.count == 3)
        #expect(day.first { $0.name == "a" }?.events == 2)
        #expect(day.first { $0.name == "b" }?.events == 1)
        #expect(day.first { $0.name == QueryVolume.otherName }?.events == 3)
        volume.record(events([#"{"name":"x"}"#]), at: 86400 * 11)
        volume.record(events([#"{"name":"y"}"#]), at: 86400 * 12)
        #expect(Set(volume.snapshot().map(\.day)) == ["1970-01-12", "1970-01-13"])
    }
}
