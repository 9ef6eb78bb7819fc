import ArgumentParser
import Dispatch
import Foundation
import PomonaSimulator
#if canImport(Glibc)
import Glibc
#endif

/// `pomona simulate`: a fleet of emulated osqueryd hosts against a running Pomona.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run simulated osquery hosts against a Pomona server and report latency and errors.",
        discussion: """
            Each host enrolls, fetches its config, then checks in for distributed queries, refreshes its \
            config and sends result and status logs at Fleet's default intervals (10 s, 60 s, 10 s), as \
            osqueryd does. --speedup divides those intervals; --duration and --start-spread are wall-clock \
            seconds. Progress goes to stderr every 10 s, the report to stdout. The report's second table \
            covers only the steady state, from 15 s after every host enrolled, with the load driven \
            expressed in hosts at Fleet's intervals.
            """)

    @Option(name: .long, help: "The agent listener, https://host:port (a name or IP in the server certificate).")
    var server: String

    @Option(name: .long, help: "PEM file of the server's CA.")
    var ca = "./pomona-data/tls/ca.pem"

    @Option(name: .long, help: "The enroll secret.")
    var enrollSecret: String?

    @Option(name: .long, help: "A file holding the enroll secret.")
    var enrollSecretFile: String?

    @Option(name: .long, help: "Number of simulated hosts.")
    var hosts = 100

    @Option(name: .long, help: "Platform weights, e.g. darwin=70,linux=20,windows=10.")
    var platforms = "darwin=70,linux=20,windows=10"

    @Option(name: .long, help: "Wall-clock seconds to run, start spread included.")
    var duration: Double = 60

    @Option(name: .long, help: "Divide every agent interval by this factor.")
    var speedup: Double = 1

    @Option(name: .long, help: "Hosts come online uniformly over this many seconds.")
    var startSpread: Double = 0

    @Option(name: .long, help: "Result log lines per host per logger period.")
    var logLines = 10

    @Option(name: .long, help: "Fraction of hosts (0-1) that wait a second before each request.")
    var slowFraction: Double = 0

    @Option(name: .long, help: "Fraction of hosts (0-1) that enroll and then go silent.")
    var deadFraction: Double = 0

    @Option(name: .long, help: "Seed for host identities and failure injection.")
    var seed: UInt64 = 1

    @Option(name: .long, help: ArgumentHelp(
        "Share this many keep-alive connections among all hosts.",
        discussion: "By default each host keeps its own, one per osqueryd thread (about 3 per host), as real agents do; that needs as many file descriptors here and on the server."))
    var connections: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Give host i the i-th address of this IPv4 range (CIDR) as its source address.",
        discussion: "The server then sees one address per host. On Linux all of 127.0.0.0/8 is local, so 127.1.0.0/16 lets a loopback run open tens of thousands of connections without every connect() searching one address's ephemeral ports. Not with --connections.",
        valueName: "cidr"))
    var sourceAddresses: String?

    func validate() throws {
        guard server.hasPrefix("https://"), server.count > "https://".count else {
            throw ValidationError("--server must be https://host:port, e.g. https://fleet.example.com:8443")
        }
        guard (enrollSecret == nil) != (enrollSecretFile == nil) else {
            throw ValidationError("give exactly one of --enroll-secret and --enroll-secret-file")
        }
        guard hosts >= 1 else { throw ValidationError("--hosts must be at least 1") }
        guard duration > 0, duration.isFinite else { throw ValidationError("--duration must be a positive number of seconds") }
        guard speedup > 0, speedup.isFinite else { throw ValidationError("--speedup must be a positive number") }
        guard startSpread >= 0, startSpread.isFinite else { throw ValidationError("--start-spread cannot be negative") }
        guard startSpread < duration else { throw ValidationError("--start-spread must be shorter than --duration") }
        guard logLines >= 0 else { throw ValidationError("--log-lines cannot be negative") }
        guard (0...1).contains(slowFraction) else { throw ValidationError("--slow-fraction must be between 0 and 1") }
        guard (0...1).contains(deadFraction) else { throw ValidationError("--dead-fraction must be between 0 and 1") }
        if let connections, connections < 1 { throw ValidationError("--connections must be at least 1") }
        if let sourceAddresses {
            guard SourceAddressRange(sourceAddresses) != nil else {
                throw ValidationError("--source-addresses must be an IPv4 range a.b.c.d/n with n from 8 to 30, e.g. 127.1.0.0/16")
            }
            guard connections == nil else { throw ValidationError("--source-addresses needs each host's own connections; drop --connections") }
        }
        do {
            _ = try PlatformMix(parsing: platforms)
        } catch let error as FleetSimulationError {
            throw ValidationError("--platforms: \(error.message)")
        }
    }

    func run() async throws {
        guard let caPEM = try? String(contentsOfFile: ca, encoding: .utf8) else {
            throw ValidationError("cannot read the CA file \(ca) (give the server's CA with --ca)")
        }
        let secret: String
        if let enrollSecretFile {
            guard let text = try? String(contentsOfFile: enrollSecretFile, encoding: .utf8) else {
                throw ValidationError("cannot read the enroll secret file \(enrollSecretFile)")
            }
            secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            secret = enrollSecret ?? ""
        }
        guard !secret.isEmpty else { throw ValidationError("the enroll secret is empty") }

        var options = FleetSimulation.Options(baseURL: server, caPEM: caPEM, enrollSecret: secret)
        options.hosts = hosts
        options.platformMix = try PlatformMix(parsing: platforms)
        options.duration = .seconds(duration)
        options.speedup = speedup
        options.startSpread = .seconds(startSpread)
        options.resultLinesPerPeriod = logLines
        options.slowFraction = slowFraction
        options.deadFraction = deadFraction
        options.seed = seed
        options.connections = connections
        options.sourceAddresses = sourceAddresses.flatMap(SourceAddressRange.init)
        try Self.raiseDescriptorLimit(to: options.descriptorsNeeded, hosts: hosts)

        Self.standardError(
            "simulating \(hosts) hosts (\(options.platformMix)) against \(server) for \(duration) s, speed-up \(speedup)")
        let simulation = FleetSimulation(options: options)
        let task = Task {
            try await simulation.run { progress in Self.standardError(progress.description) }
        }
        // Ctrl-C stops the hosts and still prints the report of what ran.
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler {
            Self.standardError("interrupted: stopping the hosts")
            task.cancel()
        }
        interrupt.resume()
        defer {
            interrupt.cancel()
            signal(SIGINT, SIG_DFL)
        }
        let report: FleetSimulationReport
        do {
            report = try await task.value
        } catch let error as FleetSimulationError {
            throw ValidationError(error.message)
        }
        print(report.formatted())
    }

    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Raises the soft file-descriptor limit as far as needed (the hard limit allows), or says
    /// what to do when even the hard limit is too low for a connection per host thread.
    static func raiseDescriptorLimit(to needed: Int, hosts: Int) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if Int(limit.rlim_cur) >= needed { return }
        if Int(limit.rlim_max) >= needed {
            limit.rlim_cur = rlim_t(needed)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { return }
        }
        throw ValidationError("""
            \(hosts) hosts keeping their own connections need about \(needed) file descriptors; this process may \
            open \(limit.rlim_max). Raise the limit (ulimit -n, LimitNOFILE=), run several simulators with fewer \
            hosts each, or share connections with --connections N (the server then sees fewer, busier connections \
            than a real fleet).
            """)
    }
}
