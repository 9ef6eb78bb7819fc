import Foundation
import NIOCore
import PomonaCore

/// A fleet of emulated osqueryd hosts run against one server, to see how it holds up before a rollout.
///
/// Every host is its own loop, as a real agent is: it waits for its start time (hosts come online
/// spread over ``Options/startSpread``), enrolls, fetches its config, and then runs three loops at
/// once until the end of ``Options/duration``: the distributed loop (read → answer → write, every
/// ``Options/distributedInterval``, or every ``Options/acceleratedDistributedInterval`` while the
/// server asked for accelerated check-ins), the config refresh loop and the logger loop (one result
/// POST and, when there are status lines, one status POST per period; a failed batch stays at the
/// head of the agent's buffer and is sent again, spec §4.6).
///
/// Concurrency contract: ``run(progressInterval:progress:)`` owns everything it creates: one shared
/// ``AgentTransport`` (each host keeps its own connections, or all share ``Options/connections``), one ``LatencyRecorder`` and
/// one task per host loop inside a task group. The run stops cooperatively at the deadline: no new
/// request starts after it, requests in flight finish (so the end of a run records no spurious
/// errors; after 20 s more, whatever still runs is cancelled). Cancelling the calling task stops
/// every loop at once; the report then covers what ran.
///
/// ```swift
/// var options = FleetSimulation.Options(baseURL: "https://fleet.example.com:8443", caPEM: ca, enrollSecret: secret)
/// options.hosts = 500
/// options.duration = .seconds(120)
/// let report = try await FleetSimulation(options: options).run()
/// print(report.formatted())
/// ```
public struct FleetSimulation: Sendable {
    /// What to simulate.
    public var options: Options

    /// Creates a simulation; nothing runs until ``run(progressInterval:progress:)``.
    public init(options: Options) {
        self.options = options
    }

    /// A snapshot of a running simulation, for progress output.
    public struct Progress: Sendable, Equatable, CustomStringConvertible {
        /// Wall-clock time since the run started.
        public var elapsed: Duration
        /// Hosts whose first enrollment succeeded so far.
        public var enrolledHosts: Int
        /// Hosts in the simulation.
        public var hosts: Int
        /// Requests made so far, every endpoint.
        public var requests: Int
        /// Requests judged failures so far.
        public var errors: Int

        public var description: String {
            "\(Int(elapsed.seconds.rounded())) s: \(enrolledHosts)/\(hosts) hosts enrolled, \(requests) requests, \(errors) errors"
        }
    }

    /// Runs the fleet until ``Options/duration`` has passed (or the task is cancelled) and reports.
    ///
    /// - Parameters:
    ///   - progressInterval: How often `progress` is called (wall clock).
    ///   - progress: Called with a snapshot every `progressInterval`, from a task of the run.
    /// - Returns: What happened, per endpoint and in total.
    /// - Throws: ``FleetSimulationError`` when the options are invalid or the CA does not parse.
    public func run(
        progressInterval: Duration = .seconds(10),
        progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> FleetSimulationReport {
        try options.validate()
        var agentConfiguration: OsqueryAgentConfiguration
        do {
            agentConfiguration = try OsqueryAgentConfiguration(baseURL: options.baseURL, caPEM: options.caPEM, enrollSecret: options.enrollSecret)
        } catch {
            throw FleetSimulationError("the CA certificate does not parse as PEM: \(error)")
        }
        agentConfiguration.identifierMode = options.identifierMode
        let speedup = options.speedup
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + options.duration
        // Retry back-offs (enroll n², helper i²) are agent intervals too, so they shrink with the
        // speed-up, and none waits past the end of the run.
        agentConfiguration.sleep = { duration in
            try await clock.sleep(until: min(clock.now + duration / speedup, deadline), tolerance: nil)
        }

        let transport: AgentTransport
        do {
            transport = try AgentTransport(
                tlsConfiguration: agentConfiguration.tlsConfiguration,
                policy: options.connections.map { .shared($0) } ?? .perAgentThread)
        } catch {
            throw FleetSimulationError("cannot set up TLS: \(error)")
        }
        let fleet = FleetRun(
            options: options, agentConfiguration: agentConfiguration, transport: transport, start: start, deadline: deadline)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await fleet.runHosts() }
            // Requests in flight at the deadline may take up to the agent's 16 s timeout; an agent
            // still retrying after that (a server that stopped answering) is cut off.
            group.addTask { try? await clock.sleep(until: deadline + Self.drainTime, tolerance: nil) }
            if let progress {
                group.addTask {
                    while (try? await Task.sleep(for: progressInterval)) != nil {
                        progress(fleet.progress())
                    }
                }
            }
            // The host loops finish first (the progress task only ends when cancelled), or the drain
            // time ran out, or the caller cancelled us; in every case stop whatever still runs.
            _ = await group.next()
            group.cancelAll()
        }
        let elapsed = clock.now - start
        transport.shutdown()
        return fleet.report(elapsed: elapsed, cancelled: Task.isCancelled)
    }

    /// How long after the deadline requests in flight may still finish before the run cancels them.
    static let drainTime: Duration = .seconds(20)
}

/// Why a ``FleetSimulation`` could not start.
public struct FleetSimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, for a person.
    public var message: String

    /// Creates an error with a message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in (fractional) milliseconds.
    var milliseconds: Double { seconds * 1000 }
}
