import Foundation
import PomonaCore
import Synchronization

/// One run of a ``FleetSimulation``: the shared transport, recorder and counters, and the host loops.
///
/// Concurrency contract: every stored property is immutable or internally locked (``LatencyRecorder``,
/// ``FleetCounters``), so the host tasks share one `FleetRun` freely. Each host's state lives in its
/// ``OsqueryAgent`` actor and in the locals of its loops.
final class FleetRun: Sendable {
    let options: FleetSimulation.Options
    let agentConfiguration: OsqueryAgentConfiguration
    let transport: AgentTransport
    let recorder = LatencyRecorder()
    let counters = FleetCounters()
    let platforms: [OsqueryPlatform]
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant
    /// When the steady state began (see ``watchForSteadyState()``).
    let steadyBegan = Mutex<ContinuousClock.Instant?>(nil)

    init(
        options: FleetSimulation.Options,
        agentConfiguration: OsqueryAgentConfiguration,
        transport: AgentTransport,
        start: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant
    ) {
        self.options = options
        self.agentConfiguration = agentConfiguration
        self.transport = transport
        platforms = options.platformMix.platforms(count: options.hosts)
        self.start = start
        self.deadline = deadline
    }

    /// What a host does besides behaving: when it starts and which failure it plays.
    struct HostTraits {
        var startOffset: Duration
        var slow: Bool
        var dead: Bool
    }

    /// Deterministic per `(seed, index)`: host *i* starts in the *i*-th slice of the spread.
    func traits(for index: Int) -> HostTraits {
        var random = SeededGenerator(seed: options.seed, index: index, stream: 0xF1EE7)
        let position = (Double(index) + Double.random(in: 0..<1, using: &random)) / Double(options.hosts)
        let dead = Double.random(in: 0..<1, using: &random) < options.deadFraction
        let slow = !dead && Double.random(in: 0..<1, using: &random) < options.slowFraction
        return HostTraits(startOffset: options.startSpread * position, slow: slow, dead: dead)
    }

    // MARK: - Loops

    func runHosts() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watchForSteadyState() }
            for index in 0..<options.hosts {
                group.addTask { await self.runHost(index) }
            }
        }
    }

    /// enroll → config → distributed, config refresh and logger loops until the deadline.
    func runHost(_ index: Int) async {
        let traits = traits(for: index)
        guard await pause(traits.startOffset) else { return }
        counters.update { $0.started += 1; if traits.slow { $0.slow += 1 }; if traits.dead { $0.dead += 1 } }
        let profile = HostProfile(seed: options.seed, index: index, platform: platforms[index])
        let agent = OsqueryAgent(
            profile: profile, configuration: agentConfiguration, transport: transport, recorder: recorder,
            sourceAddress: options.sourceAddresses?.address(for: index))
        await behave(agent, index: index, traits: traits)
        await agent.disconnect()
    }

    private func behave(_ agent: OsqueryAgent, index: Int, traits: HostTraits) async {
        guard await slowDown(traits.slow) else { return }
        let firstAttempts: Int
        do {
            firstAttempts = try await agent.enroll().attempts
            let after = (clock.now - start).seconds
            counters.update { $0.enrolled += 1; $0.lastEnrolledAfter = max($0.lastEnrolledAfter, after) }
        } catch {
            counters.update { $0.enrollFailures += 1 }
            return
        }
        if !traits.dead {
            await fetchConfig(agent, slow: traits.slow)
            await withDiscardingTaskGroup { group in
                group.addTask { await self.distributedLoop(agent, slow: traits.slow) }
                group.addTask { await self.configLoop(agent, slow: traits.slow) }
                group.addTask { await self.loggerLoop(agent, index: index, slow: traits.slow) }
            }
        }
        let requests = await agent.enrollRequestCount
        counters.update { $0.reEnrollRequests += requests - firstAttempts }
    }

    func fetchConfig(_ agent: OsqueryAgent, slow: Bool) async {
        guard await slowDown(slow) else { return }
        do {
            _ = try await agent.fetchConfig()
            counters.update { $0.configFetches += 1 }
        } catch {
            counters.update { $0.configFailures += 1 }
        }
    }

    func configLoop(_ agent: OsqueryAgent, slow: Bool) async {
        while await pause(options.configInterval / options.speedup) {
            await fetchConfig(agent, slow: slow)
        }
    }

    /// read → answer → write, then 5 s while accelerated, else the distributed interval (§5.1).
    func distributedLoop(_ agent: OsqueryAgent, slow: Bool) async {
        var acceleratedUntil = start
        repeat {
            guard await slowDown(slow) else { return }
            do {
                let run = try await agent.runDistributedOnce()
                counters.update {
                    $0.distributedRuns += 1
                    if run.wrote { $0.distributedAnswered += run.answers.count }
                }
                if let seconds = run.work.accelerate, seconds > 0 {
                    acceleratedUntil = clock.now + .seconds(seconds) / options.speedup
                }
            } catch {
                counters.update { $0.distributedFailures += 1 }
            }
        } while await pause(
            (clock.now < acceleratedUntil ? options.acceleratedDistributedInterval : options.distributedInterval) / options.speedup)
    }

    /// One result POST (and a status POST when there are status lines) per logger period.
    func loggerLoop(_ agent: OsqueryAgent, index: Int, slow: Bool) async {
        var volume = LogVolume(formatter: await agent.logFormatter(), profile: agent.profile, options: options)
        while await pause(options.loggerInterval / options.speedup) {
            let unixTime = Int64(Date().timeIntervalSince1970)
            let results = volume.resultLines(unixTime: unixTime)
            let statuses = volume.statusLines(unixTime: unixTime)
            counters.update {
                $0.resultGenerated += results.count
                $0.statusGenerated += statuses.count
            }
            guard await slowDown(slow) else { return }
            record(.result, await agent.sendLogs(type: .result, lines: results))
            let statusBacklog = await agent.bufferedLogCount(.status)
            if !statuses.isEmpty || statusBacklog > 0 {
                guard await slowDown(slow) else { return }
                record(.status, await agent.sendLogs(type: .status, lines: statuses))
            }
            volume.period += 1
        }
    }

    private func record(_ type: OsqueryAgent.LogType, _ result: OsqueryAgent.LogSendResult) {
        guard result.batchLines > 0 else { return }
        counters.update { counts in
            let acknowledged = result.delivered ? result.batchLines - result.droppedLines : 0
            switch type {
            case .result:
                counts.resultSent += result.batchLines
                counts.resultAcknowledged += acknowledged
            case .status:
                counts.statusSent += result.batchLines
                counts.statusAcknowledged += acknowledged
            }
            if !result.delivered { counts.logBatchFailures += 1 }
        }
    }

    // MARK: - Time

    /// Sleeps for `duration` but never past the deadline.
    /// - Returns: `false` when the run is over (deadline reached or task cancelled).
    func pause(_ duration: Duration) async -> Bool {
        let now = clock.now
        guard now < deadline, !Task.isCancelled else { return false }
        do {
            try await clock.sleep(until: min(now + duration, deadline), tolerance: nil)
        } catch {
            return false
        }
        return clock.now < deadline
    }

    /// A slow host's delay before a request.
    func slowDown(_ slow: Bool) async -> Bool {
        guard slow else { return clock.now < deadline && !Task.isCancelled }
        return await pause(options.slowDelay)
    }

    /// Starts the recorder's steady-state window ``Options/steadySettle`` after every host has
    /// started and finished enrolling (enrolled or given up), so the report can price an enrolled
    /// fleet apart from its enrollment storm. Returns by the deadline at the latest.
    func watchForSteadyState() async {
        let hosts = options.hosts
        while clock.now < deadline {
            let c = counters.snapshot
            if c.started == hosts && c.enrolled + c.enrollFailures == hosts { break }
            guard (try? await clock.sleep(for: .milliseconds(250), tolerance: nil)) != nil else { return }
        }
        guard (try? await clock.sleep(until: min(clock.now + options.steadySettle, deadline), tolerance: nil)) != nil,
            clock.now < deadline
        else { return }
        recorder.beginSteadyState()
        let now = clock.now
        steadyBegan.withLock { $0 = now }
    }

    // MARK: - Results

    func progress() -> FleetSimulation.Progress {
        let totals = recorder.totals()
        return FleetSimulation.Progress(
            elapsed: clock.now - start,
            enrolledHosts: counters.snapshot.enrolled,
            hosts: options.hosts,
            requests: totals.requests,
            errors: totals.errors)
    }

    func report(elapsed: Duration, cancelled: Bool) -> FleetSimulationReport {
        var report = FleetSimulationReport(
            hosts: options.hosts, counts: counters.snapshot, endpoints: recorder.summary(),
            elapsed: elapsed, cancelled: cancelled)
        if let began = steadyBegan.withLock({ $0 }), let endpoints = recorder.steadySummary() {
            // The window ends with the fleet's deadline: requests still finishing after it were
            // started inside it, and no new ones start.
            report.steady = .init(
                began: began - start, duration: min(clock.now, deadline) - began, endpoints: endpoints,
                fleetDistributedInterval: options.distributedInterval, speedup: options.speedup)
        }
        return report
    }
}

/// Fleet-wide counters, locked; host loops add to them.
final class FleetCounters: Sendable {
    private let state = Mutex(FleetSimulationReport.Counts())

    func update(_ body: (inout FleetSimulationReport.Counts) -> Void) {
        state.withLock { body(&$0) }
    }

    var snapshot: FleetSimulationReport.Counts { state.withLock { $0 } }
}

/// The log lines one host produces, period after period.
///
/// Each period has ``FleetSimulation/Options/resultLinesPerPeriod`` result lines: event-format
/// differential lines (processes started, listening ports opened and closed) and, every
/// ``FleetSimulation/Options/snapshotEveryPeriods`` periods, one snapshot line of `system_info`.
/// Status lines: osqueryd's startup lines in the first period, then one every
/// ``FleetSimulation/Options/statusEveryPeriods`` periods.
struct LogVolume {
    let formatter: ResultLogFormatter
    let profile: HostProfile
    let options: FleetSimulation.Options
    /// Periods flushed so far; the event lines' `counter`.
    var period = 0
    private var random: SeededGenerator

    init(formatter: ResultLogFormatter, profile: HostProfile, options: FleetSimulation.Options) {
        self.formatter = formatter
        self.profile = profile
        self.options = options
        random = SeededGenerator(seed: profile.seed, index: profile.index, stream: 0x106)
    }

    mutating func resultLines(unixTime: Int64) -> [JSONValue] {
        var count = options.resultLinesPerPeriod
        var lines: [JSONValue] = []
        lines.reserveCapacity(count)
        if count > 0, options.snapshotEveryPeriods > 0, period % options.snapshotEveryPeriods == 0 {
            lines.append(formatter.snapshotLine(name: "pack/Global/system_info", rows: [profile.systemInfo], unixTime: unixTime))
            count -= 1
        }
        // Three quarters process events (added only), a quarter listening ports (added and removed).
        let portLines = count / 4
        var processes: [[String: String]] = []
        for _ in 0..<(count - portLines) {
            let (path, cmdline) = random.pick(processCommands)
            processes.append([
                "cmdline": cmdline, "path": path, "pid": String(random.int(in: 300...99_999)),
                "parent": String(random.int(in: 1...999)), "uid": random.pick(["0", "501", "1000"]), "time": String(unixTime),
            ])
        }
        var added: [[String: String]] = []
        var removed: [[String: String]] = []
        for number in 0..<portLines {
            let row = [
                "address": random.pick(["0.0.0.0", "127.0.0.1", "::"]), "port": String(random.int(in: 1024...65_000)),
                "pid": String(random.int(in: 300...99_999)), "protocol": "6",
            ]
            if number % 2 == 0 { added.append(row) } else { removed.append(row) }
        }
        let counter = Int64(period)
        lines += formatter.eventLines(name: "pack/Global/process_events", added: processes, removed: [], unixTime: unixTime, counter: counter)
        lines += formatter.eventLines(name: "pack/Global/listening_ports", added: added, removed: removed, unixTime: unixTime, counter: counter)
        return lines
    }

    func statusLines(unixTime: Int64) -> [JSONValue] {
        if period == 0 {
            return [
                formatter.statusLine(
                    severity: .info, filename: "init.cpp", line: 421,
                    message: "osquery initialized [version=\(profile.osqueryVersion)]", unixTime: unixTime),
                formatter.statusLine(
                    severity: .info, filename: "distributed_runner.cpp", line: 51,
                    message: "Distributed query service starting", unixTime: unixTime),
            ]
        }
        guard options.statusEveryPeriods > 0, period % options.statusEveryPeriods == 0 else { return [] }
        return [
            formatter.statusLine(
                severity: .info, filename: "scheduler.cpp", line: 83,
                message: "Executing scheduled query pack/Global/listening_ports: SELECT * FROM listening_ports", unixTime: unixTime)
        ]
    }

    private var processCommands: [(String, String)] {
        switch profile.platform {
        case .darwin:
            [("/usr/bin/git", "git status"), ("/bin/zsh", "-zsh"), ("/usr/bin/curl", "curl -sS https://example.com"),
             ("/Applications/Safari.app/Contents/MacOS/Safari", "Safari")]
        case .linux:
            [("/usr/bin/bash", "bash -c uptime"), ("/usr/sbin/sshd", "sshd: deploy [priv]"), ("/usr/bin/python3", "python3 app.py"),
             ("/usr/bin/apt-get", "apt-get update")]
        case .windows:
            [("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c whoami"), ("C:\\Windows\\explorer.exe", "explorer.exe"),
             ("C:\\Program Files\\PowerShell\\7\\pwsh.exe", "pwsh -NoProfile")]
        }
    }
}
