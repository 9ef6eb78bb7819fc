import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A monotonic clock in seconds since this process started the health loop (what
/// ``HealthMonitor`` takes as `now`).
struct MonotonicSeconds: Sendable {
    let origin = ContinuousClock.now
    var now: Double {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// One part the health loop watches, and the small piece of work that proves it moves.
struct HealthProbe: Sendable {
    var name: String
    var run: @Sendable () async throws -> Void
}

/// The server's health: probes its moving parts on a timer, keeps the verdicts in a
/// ``HealthMonitor`` (read by `/readyz`), and reports to systemd: `STATUS=` every tick and
/// `WATCHDOG=1` only while nothing is stalled.
///
/// Probes run as unstructured tasks: a probe stuck in a wedged writer must not stop the loop
/// (the loop is what notices it) nor hold up shutdown. At most one probe per part is out at a
/// time. The loop itself runs on the cooperative pool, so a pool that stops running tasks also
/// stops the pings.
final class ServerHealth: Sendable {
    let probes: [HealthProbe]
    let monitor: Mutex<HealthMonitor>
    let clock = MonotonicSeconds()
    let interval: Duration
    let notifier: SystemdNotifier?
    let watchdog: SystemdWatchdog?
    let statusLine: @Sendable () -> String
    /// Told each successful probe's duration (the latency histograms of `/metrics`).
    let onProbeSuccess: @Sendable (_ part: String, _ duration: Duration) -> Void
    let logger: Logger
    /// The parts reported stalled at the last tick, to log changes once rather than every tick.
    private let reported = Mutex<[String]>([])
    private let notifyFailed = Atomic<Bool>(false)

    /// Without a watchdog the loop still runs (for `/readyz` and `STATUS=`) every 10 s and calls a
    /// part stalled after 30 s.
    init(
        probes: [HealthProbe], notifier: SystemdNotifier?, watchdog: SystemdWatchdog?, logger: Logger,
        onProbeSuccess: @escaping @Sendable (String, Duration) -> Void = { _, _ in },
        statusLine: @escaping @Sendable () -> String
    ) {
        self.onProbeSuccess = onProbeSuccess
        self.probes = probes
        self.notifier = notifier
        self.watchdog = watchdog
        self.logger = logger
        self.statusLine = statusLine
        interval = watchdog?.pingInterval ?? .seconds(10)
        let stallAfter = watchdog.map { Double($0.timeout.components.seconds) + Double($0.timeout.components.attoseconds) / 1e18 } ?? 30
        monitor = Mutex(HealthMonitor(parts: probes.map(\.name), stallAfter: stallAfter, now: 0))
    }

    /// Starts the probes that are not already out, then judges and reports.
    func tick() {
        for probe in probes {
            let start = monitor.withLock { $0.beginProbe(probe.name, now: clock.now) }
            guard start else { continue }
            Task {
                var failure: String?
                let started = ContinuousClock.now
                do {
                    try await probe.run()
                    onProbeSuccess(probe.name, ContinuousClock.now - started)
                } catch {
                    failure = "\(error)"
                }
                let failed = failure
                monitor.withLock { $0.finishProbe(probe.name, error: failed, now: clock.now) }
            }
        }
        report()
    }

    /// The stalled parts now (empty: healthy).
    func stalled() -> [HealthMonitor.Problem] {
        let now = clock.now
        return monitor.withLock { $0.stalled(now: now) }
    }

    /// Whether a part's last probe succeeded recently (for `/readyz`).
    func isWorking(_ name: String) -> Bool {
        let now = clock.now
        return monitor.withLock { $0.isWorking(name, now: now) }
    }

    private func report() {
        let problems = stalled()
        let names = problems.map(\.part)
        let changed = reported.withLock { previous in
            defer { previous = names }
            return previous != names
        }
        if changed {
            if problems.isEmpty {
                logger.notice("health: every part makes progress again")
            } else {
                logger.error(
                    "health: stalled, withholding watchdog pings", metadata: ["stalled": "\(problems.map(\.description).joined(separator: "; "))"])
            }
        }
        var status = statusLine()
        if !problems.isEmpty { status += "; stalled: " + problems.map(\.description).joined(separator: "; ") }
        var message = [("STATUS", status)]
        if watchdog != nil && problems.isEmpty { message.append(("WATCHDOG", "1")) }
        notify(message)
    }

    /// Sends to systemd when started by it; a failure is logged once (systemd may be gone, e.g.
    /// in a test or after `daemon-reexec`; serving goes on).
    func notify(_ assignments: [(String, String)]) {
        guard let notifier else { return }
        do {
            try notifier.send(assignments)
        } catch {
            if !notifyFailed.exchange(true, ordering: .relaxed) {
                logger.warning("cannot notify systemd", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Runs ``ServerHealth/tick()`` until graceful shutdown. First in the service group, so it is
/// the last to stop: the watchdog keeps being fed while the listeners drain.
struct HealthService: Service {
    let health: ServerHealth

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                health.tick()
                do { try await Task.sleep(for: health.interval) } catch { break }
            }
        }
    }
}

/// Tells systemd `STOPPING=1` as soon as a graceful shutdown starts. Last in the service group,
/// so it is the first one told of the shutdown (services stop in reverse order).
struct StoppingNotice: Service {
    let health: ServerHealth

    func run() async throws {
        try? await gracefulShutdown()
        health.notify([("STOPPING", "1"), ("STATUS", "stopping: draining agent requests")])
    }
}

extension HealthProbe {
    /// A task on each event loop of `group` must run (a loop blocked by a handler stalls).
    static func eventLoops(_ group: any EventLoopGroup) -> [HealthProbe] {
        var probes: [HealthProbe] = []
        for (index, loop) in group.makeIterator().enumerated() {
            probes.append(HealthProbe(name: "event loop \(index)") { try await loop.submit {}.get() })
        }
        return probes
    }
}
