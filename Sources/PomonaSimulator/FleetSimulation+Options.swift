import PomonaCore

extension FleetSimulation {
    /// Everything that shapes a simulated fleet.
    ///
    /// Time has two kinds: ``duration``, ``startSpread`` and ``slowDelay`` are wall-clock; the agent
    /// intervals (distributed, config, logger, the accelerated 5 s and the retry back-offs) are
    /// fleet time and are divided by ``speedup``. Defaults are Fleet's agent defaults.
    public struct Options: Sendable {
        /// `https://host:port` of the agent listener.
        public var baseURL: String
        /// PEM text of the CA the server certificate chains to.
        public var caPEM: String
        /// The enroll secret every host sends.
        public var enrollSecret: String
        /// Number of simulated hosts.
        public var hosts = 100
        /// The operating systems of the fleet.
        public var platformMix = PlatformMix.fleetDefault
        /// `--distributed_interval` (Fleet: 10 s).
        public var distributedInterval: Duration = .seconds(10)
        /// osqueryd's pause while accelerated check-ins are on (5 s).
        public var acceleratedDistributedInterval: Duration = .seconds(5)
        /// `--config_refresh` (Fleet: 60 s).
        public var configInterval: Duration = .seconds(60)
        /// `--logger_tls_period` (Fleet: 10 s).
        public var loggerInterval: Duration = .seconds(10)
        /// Divides every agent interval; 10 makes each host ten times as chatty.
        public var speedup: Double = 1
        /// Hosts start uniformly spread over this much wall-clock time.
        public var startSpread: Duration = .zero
        /// Wall-clock length of the run, start spread included.
        public var duration: Duration = .seconds(60)
        /// The steady state (reported apart, ``FleetSimulationReport/steady``) begins this long
        /// (wall clock) after every host has started and finished enrolling.
        public var steadySettle: Duration = .seconds(15)
        /// Seed of host identities, platforms, start times and failure injection.
        public var seed: UInt64 = 1
        /// Result lines each host logs per logger period (event lines, and the periodic snapshot line).
        public var resultLinesPerPeriod = 10
        /// One of the period's result lines is a snapshot line every this many periods (0: never).
        public var snapshotEveryPeriods = 6
        /// A status line every this many periods, besides the startup ones (0: only at startup).
        public var statusEveryPeriods = 6
        /// Fraction of hosts (0…1) that wait ``slowDelay`` before each request.
        public var slowFraction: Double = 0
        /// The wait of a slow host before each request (wall clock).
        public var slowDelay: Duration = .seconds(1)
        /// Fraction of hosts (0…1) that enroll and then go silent.
        public var deadFraction: Double = 0
        /// `nil`: each host keeps its own keep-alive connections, one per osqueryd thread, as
        /// real agents do (about three per host, spec §6.4). A number: all hosts share that many,
        /// for machines whose file-descriptor limit cannot hold a connection per host thread.
        public var connections: Int?
        /// Host *i* connects from the *i*-th address of this range (``SourceAddressRange``);
        /// nil: the system picks, as usual. Not with ``connections`` (shared connections belong
        /// to no one host).
        public var sourceAddresses: SourceAddressRange?
        /// `--host_identifier` (the agent kit's `uuid` by default, so names never collide).
        public var identifierMode = HostProfile.IdentifierMode.uuid

        /// Options with Fleet's defaults.
        ///
        /// - Parameters:
        ///   - baseURL: `https://host:port` of the agent listener.
        ///   - caPEM: PEM text of the server's CA.
        ///   - enrollSecret: The enroll secret.
        public init(baseURL: String, caPEM: String, enrollSecret: String) {
            self.baseURL = baseURL
            self.caPEM = caPEM
            self.enrollSecret = enrollSecret
        }

        /// File descriptors the run needs: three connections per host when each keeps its own.
        public var descriptorsNeeded: Int { (connections ?? 3 * hosts) + 64 }

        /// Checks every value.
        /// - Throws: ``FleetSimulationError`` naming the first bad value.
        public func validate() throws {
            func check(_ condition: Bool, _ message: String) throws {
                if !condition { throw FleetSimulationError(message) }
            }
            try check(baseURL.hasPrefix("https://") && baseURL.count > "https://".count, "the server URL must be https://host:port")
            try check(!enrollSecret.isEmpty, "the enroll secret is empty")
            try check(hosts >= 1, "the host count must be at least 1")
            try check(speedup > 0 && speedup.isFinite, "the speed-up must be a positive number")
            for (name, interval) in [
                ("distributed", distributedInterval), ("accelerated distributed", acceleratedDistributedInterval),
                ("config", configInterval), ("logger", loggerInterval),
            ] {
                try check(interval > .zero, "the \(name) interval must be positive")
            }
            try check(duration > .zero, "the duration must be positive")
            try check(startSpread >= .zero, "the start spread cannot be negative")
            try check(slowDelay >= .zero, "the slow-host delay cannot be negative")
            try check(resultLinesPerPeriod >= 0, "the log lines per period cannot be negative")
            try check(snapshotEveryPeriods >= 0 && statusEveryPeriods >= 0, "log periods cannot be negative")
            try check((0...1).contains(slowFraction), "the slow fraction must be between 0 and 1")
            try check((0...1).contains(deadFraction), "the dead fraction must be between 0 and 1")
            try check((connections ?? 1) >= 1, "the connection count must be at least 1")
            try check(connections == nil || sourceAddresses == nil, "source addresses need a connection per host (no shared connections)")
            try check(platformMix.totalWeight > 0, "the platform mix needs a positive weight")
        }
    }
}

/// The share of each operating system in a simulated fleet, as integer weights.
///
/// Hosts get their platform by smooth weighted round-robin over the index, so every prefix of the
/// fleet has the mix as closely as integers allow (30 hosts of 70/20/10 are 21/6/3).
///
/// ```swift
/// let mix = try PlatformMix(parsing: "darwin=70,linux=20,windows=10")
/// mix.platforms(count: 10)   // 7 darwin, 2 linux, 1 windows, interleaved
/// ```
public struct PlatformMix: Sendable, Equatable, CustomStringConvertible {
    /// One platform's weight.
    public struct Share: Sendable, Equatable {
        public var platform: OsqueryPlatform
        public var weight: Int

        public init(platform: OsqueryPlatform, weight: Int) {
            self.platform = platform
            self.weight = weight
        }
    }

    /// The weights, in the order given; platforms with weight 0 are kept but never chosen.
    public var shares: [Share]

    /// Creates a mix from weights.
    public init(_ shares: [Share]) { self.shares = shares }

    /// darwin 70, linux 20, windows 10: a typical office fleet.
    public static let fleetDefault = PlatformMix([
        Share(platform: .darwin, weight: 70), Share(platform: .linux, weight: 20), Share(platform: .windows, weight: 10),
    ])

    /// Parses `darwin=70,linux=20,windows=10` (percentages or any non-negative integer weights).
    /// - Throws: ``FleetSimulationError`` for an unknown platform, a repeated one, or a bad weight.
    public init(parsing text: String) throws {
        var shares: [Share] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2, let platform = OsqueryPlatform(rawValue: parts[0].lowercased()) else {
                throw FleetSimulationError("platform mix: '\(item)' is not darwin=N, linux=N or windows=N")
            }
            guard let weight = Int(parts[1]), weight >= 0 else {
                throw FleetSimulationError("platform mix: the weight of \(platform.rawValue) must be a non-negative integer")
            }
            guard !shares.contains(where: { $0.platform == platform }) else {
                throw FleetSimulationError("platform mix: \(platform.rawValue) is given twice")
            }
            shares.append(Share(platform: platform, weight: weight))
        }
        guard shares.contains(where: { $0.weight > 0 }) else {
            throw FleetSimulationError("platform mix: at least one platform needs a positive weight")
        }
        self.shares = shares
    }

    /// Sum of the weights.
    public var totalWeight: Int { shares.reduce(0) { $0 + $1.weight } }

    /// The platforms of hosts `0..<count`, interleaved (smooth weighted round-robin).
    public func platforms(count: Int) -> [OsqueryPlatform] {
        let total = totalWeight
        guard total > 0 else { return [] }
        var current = [Int](repeating: 0, count: shares.count)
        var result: [OsqueryPlatform] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            var best = 0
            for index in shares.indices {
                current[index] += shares[index].weight
                if current[index] > current[best] { best = index }
            }
            current[best] -= total
            result.append(shares[best].platform)
        }
        return result
    }

    public var description: String {
        shares.map { "\($0.platform.rawValue)=\($0.weight)" }.joined(separator: ",")
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
