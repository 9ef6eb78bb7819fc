import Foundation
import NIOCore
import Synchronization

/// Runs the routes that target one output over spooled events: the delivery loop of that output
/// calls ``process(_:)`` for each event it reads from the spool and ``tick(now:)`` about once a
/// second for throttle summaries.
///
/// ```swift
/// let processor = OutputProcessor(outputName: "splunk", routes: config.routes, hosts: hostCache)
/// switch processor.process(spooled) {
/// case .forward(let events): batch.append(contentsOf: events)
/// case .filtered, .throttled, .unrouted: account(…)   // and advance the checkpoint
/// }
/// batch.append(contentsOf: processor.tick(now: Date().timeIntervalSince1970))
/// ```
///
/// Semantics:
/// - Every route whose `match` holds runs on its own copy of the event; the output gets at most one
///   event per route. When more than one route matches, each forwarded event's id is the spooled
///   id plus `/<route name>` (decided by the match alone, so the ids are the same when the spool
///   is replayed after a restart).
/// - `time` is the event's `unixTime`, else its `calendarTime`, else the receive time; `host` is the
///   enriched hostname, else the enrolled host's name, else `hostIdentifier`, else empty.
/// - Throttle state is per output: two outputs fed by one route throttle independently.
///
/// Thread-safe (state behind a mutex); meant to be called from one delivery task.
public final class OutputProcessor: Sendable {
    public let outputName: String
    let routes: [RouteProgram]
    let hosts: any HostFactsProvider
    let clock: @Sendable () -> Double
    let state: Mutex<State>

    struct RouteProgram: Sendable {
        var name: String
        var match: RouteConfiguration.Match
        var stages: [StageProgram]
        var output: RouteConfiguration.Output
    }

    enum StageProgram: Sendable {
        case filter(FilterStage)
        case transform(TransformStage)
        /// Index into ``State/throttles``.
        case throttle(name: String, slot: Int)
        case enrich(EnrichStage)
    }

    struct State: Sendable {
        var throttles: [ThrottleState]
        var throttleOwners: [(route: String, stage: String)]
        var statistics = OutputProcessorStatistics()
        var summarySequence: Int64 = 0
        var hostObjects = HostObjectCache()
    }

    /// - Parameters:
    ///   - routes: all configured routes; only those listing `outputName` are used.
    ///   - clock: wall-clock seconds since 1970 (throttle windows advance with it).
    public init(outputName: String, routes: [RouteConfiguration], hosts: any HostFactsProvider,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.outputName = outputName
        self.hosts = hosts
        self.clock = clock
        var throttles: [ThrottleState] = []
        var owners: [(String, String)] = []
        var programs: [RouteProgram] = []
        for route in routes {
            guard let output = route.outputs.first(where: { $0.name == outputName }) else { continue }
            let stages = route.stages.map { stage -> StageProgram in
                switch stage {
                case .filter(let s): return .filter(s)
                case .transform(let s): return .transform(s)
                case .enrich(let s): return .enrich(s)
                case .throttle(let configuration):
                    throttles.append(ThrottleState(configuration: configuration))
                    owners.append((route.name, configuration.name))
                    return .throttle(name: configuration.name, slot: throttles.count - 1)
                }
            }
            programs.append(RouteProgram(name: route.name, match: route.match, stages: stages, output: output))
        }
        self.routes = programs
        self.state = Mutex(State(throttles: throttles, throttleOwners: owners))
    }

    /// Whether any route sends events to this output.
    public var hasRoutes: Bool { !routes.isEmpty }

    /// The routes feeding this output, in configuration order.
    public var routeNames: [String] { routes.map(\.name) }

    public func process(_ event: SpooledEvent) -> StageOutcome {
        process(event, now: clock())
    }

    static let hostIdentifierField = try! FieldPath("hostIdentifier")  // a literal, valid by construction

    /// Runs the matching routes over `event`; `now` moves the throttle windows.
    public func process(_ event: SpooledEvent, now: Double) -> StageOutcome {
        state.withLock { state in run(event, now: now, state: &state) }
    }

    /// The work of ``process(_:now:)``, under the lock. (A method rather than a closure body, so no
    /// mutable local is captured by a closure and the optimiser sees plain inout accesses.)
    private func run(_ event: SpooledEvent, now: Double, state: inout State) -> StageOutcome {
        state.statistics.processed += 1
        var base = EventDraft(body: event.body, sourcetype: event.sourcetype, input: event.input)
        var matched: [Int] = []
        for index in routes.indices where routes[index].match.matches(&base) { matched.append(index) }
        guard !matched.isEmpty else {
            state.statistics.unrouted += 1
            return .unrouted
        }
        let eventTime = EventTime.of(&base) ?? event.receivedAt
        var forwarded: [PipelineEvent] = []
        var firstDrop: StageOutcome?
        routes: for index in matched {
            let route = routes[index]
            var draft = base
            var facts: HostFacts?
            for stage in route.stages {
                switch stage {
                case .filter(let filter):
                    if filter.drops(&draft) {
                        state.statistics.filtered["\(route.name)/\(filter.name)", default: 0] += 1
                        if firstDrop == nil { firstDrop = .filtered(route: route.name, stage: filter.name) }
                        continue routes
                    }
                case .transform(let transform):
                    state.statistics.masked += Int64(transform.apply(&draft))
                case .throttle(let name, let slot):
                    if case .drop(let rule, let key) = state.throttles[slot].admit(&draft, eventTime: eventTime, now: now) {
                        state.statistics.throttled["\(route.name)/\(name)/\(rule)", default: 0] += 1
                        if firstDrop == nil { firstDrop = .throttled(route: route.name, stage: name, rule: rule, key: key) }
                        continue routes
                    }
                case .enrich(let enrich):
                    facts = enrich.apply(&draft, hostID: event.hostID, provider: hosts, cache: &state.hostObjects)
                    if facts == nil { state.statistics.enrichMisses[route.name, default: 0] += 1 }
                }
            }
            let host = facts?.hostname ?? event.hostID.flatMap { hosts.facts(hostID: $0)?.hostname }
                ?? base.text(at: Self.hostIdentifierField) ?? ""
            forwarded.append(PipelineEvent(
                sourcetype: route.output.sourcetype ?? event.sourcetype, time: eventTime, host: host,
                id: matched.count > 1 ? "\(event.id)/\(route.name)" : event.id, body: draft.body))
        }
        if forwarded.isEmpty, let firstDrop { return firstDrop }
        state.statistics.forwarded += 1
        state.statistics.forwardedEvents += Int64(forwarded.count)
        return .forward(forwarded)
    }

    /// Closes the throttle windows that ended by `now` and returns their summary events
    /// (sourcetype `pomona:throttle_summary`), oldest window first.
    public func tick(now: Double) -> [PipelineEvent] {
        state.withLock { state in
            var events: [PipelineEvent] = []
            for slot in state.throttles.indices {
                let (route, _) = state.throttleOwners[slot]
                for summary in state.throttles[slot].closeWindows(now: now) {
                    state.summarySequence += 1
                    let bytes = summary.body(route: route)
                    var body = ByteBufferAllocator().buffer(capacity: bytes.count)
                    body.writeBytes(bytes)
                    let id = "throttle-summary:\(route):\(summary.stage):\(summary.rule):"
                        + "\(ThrottleSummary.seconds(summary.windowStart)):\(Self.fnv1a(summary.keyText)):\(state.summarySequence)"
                    events.append(PipelineEvent(sourcetype: "pomona:throttle_summary", time: summary.windowStart,
                                                host: summary.host ?? "", id: id, body: body))
                }
            }
            state.statistics.summaries += Int64(events.count)
            return events
        }
    }

    /// Throttle summaries of every window still open, as if they had all ended (for shutdown).
    public func flush() -> [PipelineEvent] {
        tick(now: .greatestFiniteMagnitude / 4)
    }

    public func statistics() -> OutputProcessorStatistics {
        state.withLock { state in
            var statistics = state.statistics
            for (slot, owner) in state.throttleOwners.enumerated() {
                statistics.throttles["\(owner.route)/\(owner.stage)"] = state.throttles[slot].statistics
            }
            return statistics
        }
    }

    static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
