import Foundation
import PomonaCore
import PomonaServer
import PomonaSimulator
import PomonaStore
import Synchronization
import Testing

/// `pomona simulate`'s engine against the real server: a small, fast fleet must run without a hitch.
@Suite(.serialized) struct FleetSimulationTests {
    @Test func smallAcceleratedFleetEnrollsOnceChecksInAndLogsDurably() async throws {
        let running = try await RunningServer.start()
        var options = FleetSimulation.Options(baseURL: running.baseURL, caPEM: try running.caPEM, enrollSecret: RunningServer.secret)
        options.hosts = 30
        options.speedup = 50  // distributed every 0.2 s (0.1 s accelerated), config 1.2 s, logger 0.2 s
        options.startSpread = .milliseconds(500)
        // Long enough that every host gets through enroll, config and a few logger periods even when
        // the whole suite runs in parallel on a loaded CI machine (a log POST still in flight at the
        // deadline is cancelled, and a 4 s run once ended before any status batch was acknowledged).
        options.duration = .seconds(8)
        options.seed = 7
        options.resultLinesPerPeriod = 8
        options.snapshotEveryPeriods = 3
        options.statusEveryPeriods = 4
        options.steadySettle = .seconds(1)
        let progressCalls = ProgressCount()
        let report = try await FleetSimulation(options: options).run(progressInterval: .seconds(1)) { _ in progressCalls.add() }
        let hostCount = try await running.server.store.hostCount()
        await running.stop()

        let counts = report.counts
        #expect(counts.started == 30)
        #expect(counts.enrolled == 30)
        #expect(counts.enrollFailures == 0)
        #expect(counts.reEnrollRequests == 0, "no host was told node_invalid")
        #expect(report.endpoints[.enroll]?.count == 30, "every host enrolled exactly once")
        #expect(report.totalErrors == 0, "errors by endpoint: \(report.errorsByEndpoint)")
        #expect(counts.configFetches >= 30 && counts.configFailures == 0)
        #expect((report.endpoints[.distributedRead]?.count ?? 0) >= 30)
        #expect(counts.distributedRuns >= 30 && counts.distributedFailures == 0)
        #expect(counts.distributedAnswered > 0, "the server's detail queries were answered")
        #expect(counts.resultAcknowledged > 0 && counts.statusAcknowledged > 0)
        #expect(counts.logBatchFailures == 0)
        #expect(progressCalls.value >= 2)
        #expect(hostCount == 30)

        // Every acknowledged line is on disk, once.
        let logs = running.dataDirectory.appendingPathComponent("logs")
        let resultLines = try String(contentsOf: logs.appendingPathComponent("osquery_result.log"), encoding: .utf8)
            .split(separator: "\n").count
        let statusLines = try String(contentsOf: logs.appendingPathComponent("osquery_status.log"), encoding: .utf8)
            .split(separator: "\n").count
        #expect(resultLines == counts.resultAcknowledged)
        #expect(statusLines == counts.statusAcknowledged)

        // The steady state began once every host had enrolled, plus the settling time, and
        // holds only the check-ins after it.
        let steady = try #require(report.steady, "every host enrolled well before the deadline")
        #expect(steady.began >= .milliseconds(1500) && steady.began < options.duration)
        #expect(steady.endpoints[.enroll] == nil)
        #expect((steady.endpoints[.distributedRead]?.count ?? 0) > 0)
        #expect((steady.endpoints[.distributedRead]?.count ?? 0) < report.endpoints[.distributedRead]?.count ?? 0)
        // 30 hosts at 50x are 1,500 hosts' worth of reads; accelerated check-ins could at most double it.
        #expect(steady.hostEquivalents > 0 && steady.hostEquivalents < 3000, "\(steady.hostEquivalents)")

        let table = report.formatted()
        #expect(table.contains("distributed_read"))
        #expect(table.contains("total"))
        #expect(table.contains("steady state:") && table.contains("steady load:"))
    }

    @Test func slowAndDeadHostsAreInjected() async throws {
        let running = try await RunningServer.start()
        var options = FleetSimulation.Options(baseURL: running.baseURL, caPEM: try running.caPEM, enrollSecret: RunningServer.secret)
        options.hosts = 20
        options.speedup = 50
        options.configInterval = .seconds(3600)  // no refresh within the run: one fetch per live host
        options.duration = .seconds(3)
        options.slowFraction = 0.3
        options.slowDelay = .milliseconds(100)
        options.deadFraction = 0.3
        options.seed = 11
        options.sourceAddresses = SourceAddressRange("127.3.0.0/24")
        let report = try await FleetSimulation(options: options).run()
        let hostCount = try await running.server.store.hostCount()
        var remoteIPs: [String] = []
        for id in 1...20 { if let ip = try await running.server.store.host(id: Int64(id))?.remoteIP { remoteIPs.append(ip) } }
        await running.stop()

        // Each host connected from its own address of the range, as the server recorded it.
        #expect(Set(remoteIPs) == Set((1...20).map { "127.3.0.\($0)" }), "\(remoteIPs)")

        let counts = report.counts
        #expect(counts.enrolled == 20 && hostCount == 20, "dead hosts enroll too")
        #expect(counts.dead > 0 && counts.slow > 0)
        #expect(counts.configFetches == 20 - counts.dead, "a dead host goes silent after enrolling")
        #expect(report.endpoints[.config]?.count == 20 - counts.dead)
        #expect(report.totalErrors == 0)
    }

    @Test func platformMixIsExactAndParsed() async throws {
        let mix = try PlatformMix(parsing: "darwin=70, linux=20,windows=10")
        let platforms = mix.platforms(count: 30)
        #expect(platforms.filter { $0 == .darwin }.count == 21)
        #expect(platforms.filter { $0 == .linux }.count == 6)
        #expect(platforms.filter { $0 == .windows }.count == 3)
        #expect(throws: FleetSimulationError.self) { try PlatformMix(parsing: "beos=10") }
        #expect(throws: FleetSimulationError.self) { try PlatformMix(parsing: "darwin=0") }
        #expect(throws: FleetSimulationError.self) { try PlatformMix(parsing: "darwin=5,darwin=6") }
    }
}

/// Counts progress callbacks from the simulation's task.
private final class ProgressCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
