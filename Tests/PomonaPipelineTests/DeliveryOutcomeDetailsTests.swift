import Foundation
import Logging
import Synchronization
import Testing
@testable import PomonaPipeline

/// A receiver double that answers with a scripted result per attempt, then delivers everything.
final class ScriptedOutput: EventOutput {
    let name = "scripted"
    let batchLimits = OutputBatchLimits(maxEvents: 100, maxBytes: 1 << 20, concurrency: 1)
    let script: Mutex<[OutputSendResult]>
    let delivered = Mutex(0)

    init(_ script: [OutputSendResult]) { self.script = Mutex(script) }

    func send(_ events: [PipelineEvent]) async -> OutputSendResult {
        let next: OutputSendResult? = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        if let next {
            // Scripted answers are written for the whole batch.
            var result = next
            if !result.retry.isEmpty { result.retry = Array(events.indices) }
            return result
        }
        delivered.withLock { $0 += events.count }
        return .delivered
    }

    func shutdown() async {}
}

@Suite struct DeliveryOutcomeDetailsTests {
    let logger = Logger(label: "test")

    /// `max_attempts` dead-letters events a receiver keeps failing — but not when the failure is
    /// a configuration problem (bad token, wrong URL): those wait for the operator's fix.
    @Test func configurationProblemsAreNotDeadLetteredAtMaxAttempts() async throws {
        var problem = OutputSendResult.retryAll(1, reason: "401 invalid token")
        problem.configurationProblem = true
        let output = ScriptedOutput(Array(repeating: problem, count: 6))
        var configuration = fastConfiguration()
        configuration.delivery.retry = RetryPolicy(initialBackoff: 0.001, maxBackoff: 0.002, maxAttempts: 2)
        let pipeline = try Pipeline(configuration: configuration, dataDirectory: temporarySpoolDirectory(), outputs: [output], logger: logger)
        let running = RunningPipeline(pipeline)
        try await pipeline.append(input: "edr", sourcetype: "collector:edr", hostID: nil, events: events([#"{"a":1}"#, #"{"a":2}"#]))
        let stats = try await running.wait { $0.outputs[0].totals.stillSpooled == .zero && $0.outputs[0].totals.received.events == 2 }
        await running.stop()
        #expect(stats.outputs[0].totals.deadLettered == .zero)
        #expect(stats.outputs[0].totals.forwarded.events == 2)
        #expect(output.delivered.withLock { $0 } == 2)
        #expect(stats.outputs[0].retries == 6)
    }

    /// The same failure without the configuration flag is dead-lettered after `max_attempts`.
    @Test func otherFailuresAreDeadLetteredAtMaxAttempts() async throws {
        let output = ScriptedOutput(Array(repeating: .retryAll(1, reason: "503"), count: 6))
        var configuration = fastConfiguration()
        configuration.delivery.retry = RetryPolicy(initialBackoff: 0.001, maxBackoff: 0.002, maxAttempts: 2)
        let pipeline = try Pipeline(configuration: configuration, dataDirectory: temporarySpoolDirectory(), outputs: [output], logger: logger)
        let running = RunningPipeline(pipeline)
        try await pipeline.append(input: "edr", sourcetype: "collector:edr", hostID: nil, events: events([#"{"a":1}"#]))
        let stats = try await running.wait { $0.outputs[0].totals.stillSpooled == .zero && $0.outputs[0].totals.received.events == 1 }
        await running.stop()
        #expect(stats.outputs[0].totals.deadLettered.events == 1)
        #expect(stats.outputs[0].totals.balances)
    }

    /// Elasticsearch's 409 on `create` means the receiver already had the event: delivered, and
    /// counted as a duplicate so an operator can see replays.
    @Test func duplicatesAreCounted() async throws {
        var duplicate = OutputSendResult()
        duplicate.duplicates = 2
        let output = ScriptedOutput([duplicate])
        let pipeline = try Pipeline(configuration: fastConfiguration(), dataDirectory: temporarySpoolDirectory(), outputs: [output], logger: logger)
        let running = RunningPipeline(pipeline)
        try await pipeline.append(input: "edr", sourcetype: "collector:edr", hostID: nil, events: events([#"{"a":1}"#, #"{"a":2}"#]))
        let stats = try await running.wait { $0.outputs[0].totals.forwarded.events == 2 }
        await running.stop()
        #expect(stats.outputs[0].duplicates == 2)
        #expect(stats.outputs[0].totals.balances)
    }
}
