import Foundation
import Logging
import NIOPosix
import PomonaCore
import PomonaPipeline
import PomonaStore

extension PomonaServer {
    /// The parts the health loop probes, named as they appear in `STATUS=` and `/readyz`.
    static let storeWriterPart = "store writer"
    static let spoolWriterPart = "spool writer"

    /// The health loop for this server, reporting to systemd when `NOTIFY_SOCKET` is set.
    func makeHealth(
        probeLatency: ProbeLatency, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ServerHealth {
        let notifier: SystemdNotifier?
        let watchdog: SystemdWatchdog?
        do {
            notifier = try SystemdNotifier.fromEnvironment(environment)
            watchdog = notifier == nil ? nil : try SystemdWatchdog.fromEnvironment(environment)
        } catch {
            throw ConfigurationError("systemd environment: \(error)")
        }
        let writer = self.writer
        let spool = pipeline.spool
        let probeLimit: Duration = watchdog?.timeout ?? .seconds(30)
        var probes = [
            // An empty write through the writer's queue: a BEGIN IMMEDIATE/COMMIT behind every
            // queued write, so it completes only while the writer drains its queue and gets
            // SQLite's write lock.
            HealthProbe(name: Self.storeWriterPart) { try await writer.write(.seen([:])) },
            HealthProbe(name: Self.spoolWriterPart) { try await spool.probeWriter(limit: probeLimit) },
        ]
        // Both listeners run on Hummingbird's default group, NIO's singleton.
        probes += HealthProbe.eventLoops(MultiThreadedEventLoopGroup.singleton)
        let registry = self.registry
        let pipeline = self.pipeline
        return ServerHealth(
            probes: probes, notifier: notifier, watchdog: watchdog, logger: logger, onProbeSuccess: probeLatency.record
        ) {
            let online = registry.statusCounts(now: Date())[.online] ?? 0
            // The backlog is what the slowest output has still to resolve.
            let backlog = pipeline.stats().outputs.map(\.totals.stillSpooled.events).max() ?? 0
            return "\(registry.count) hosts enrolled, \(online) online; pipeline backlog \(backlog) events"
        }
    }
}
