import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import PomonaAdminAPI
import PomonaAgentAPI
import PomonaCore
import PomonaPipeline
import PomonaStore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The addresses the listeners actually bound (ports may be ephemeral in tests).
public struct ServerAddresses: Sendable {
    public var agentPort: Int
    public var adminPort: Int
}

/// The whole appliance in one process: database, registry, writer, log files, both listeners.
///
/// `init` does everything that can fail before serving (open and migrate the database, TLS
/// material, first-start seeding), so configuration errors surface at start with a clear message.
/// ``run(onReady:)`` serves until SIGTERM/SIGINT, then stops accepting, drains in-flight requests,
/// flushes seen times and closes the log files and the database.
public final class PomonaServer: Sendable {
    public let configuration: ServerConfiguration
    public let logger: Logger
    public let store: any FleetStore
    public let registry: HostRegistry
    public let writer: StoreWriter
    public let configState: AgentConfigState
    /// The event pipeline: `/log` and `/collector` append to its spool; outputs forward to SIEMs.
    public let pipeline: Pipeline
    let hostFacts: HostFactsCache
    public let agentService: AgentService
    /// The management API (users, hosts, queries, …) on the admin listener.
    public let adminAPI: AdminAPI
    public let tlsFiles: TLSFiles
    /// The admin page: the copy built into the binary, or a directory (`serve --web-dir`).
    public let webAssets: WebAssets
    /// The enroll secret generated at this start, if there was none (printed for the operator).
    public let generatedEnrollSecret: String?
    let startedAt = Date()
    /// The running service group, so ``shutdown()`` can stop it like SIGTERM does.
    private let group = Mutex<ServiceGroup?>(nil)
    /// Tags the built-in macOS baseline queries (removable with `pomona baseline remove`).
    public static let baselineMarker = "builtin:macos-baseline"

    /// - Parameter webDirectory: serve the admin page from this directory instead of the embedded
    ///   copy (development: edit `Web/` and reload without rebuilding).
    public init(configuration: ServerConfiguration, logger: Logger, webDirectory: String? = nil) async throws {
        try configuration.validate()
        webAssets = try webDirectory.map { .directory(try WebAssets.validateDirectory($0)) } ?? .embeddedFiles
        self.configuration = configuration
        self.logger = logger
        let fm = FileManager.default
        // The data directory holds enroll secrets, the CA key and host data: owner-only by default.
        umask(0o077)
        do {
            try fm.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        } catch {
            throw ConfigurationError("cannot create data directory \(configuration.dataDirectory): \(error.localizedDescription)")
        }
        let datastore: Datastore
        do {
            datastore = try Datastore(path: configuration.databasePath)
            store = datastore
        } catch {
            throw ConfigurationError("cannot open database \(configuration.databasePath): \(error)")
        }
        if let cert = configuration.tlsCertificatePath, let key = configuration.tlsPrivateKeyPath {
            tlsFiles = try TLSFiles.operatorSupplied(
                certificateChainPath: URL(fileURLWithPath: cert), privateKeyPath: URL(fileURLWithPath: key))
        } else {
            tlsFiles = try CertificateAuthority.loadOrCreate(
                directory: URL(fileURLWithPath: configuration.tlsDirectory), serverNames: configuration.serverNames)
        }
        generatedEnrollSecret = try await PomonaServer.seed(store: store, configuration: configuration, logger: logger)

        registry = HostRegistry(planner: DistributedReadPlanner(detailInterval: TimeInterval(configuration.detailUpdateInterval)))
        writer = StoreWriter(store: datastore, logger: logger)
        configState = AgentConfigState(store: store, logger: logger)
        let hostFacts = HostFactsCache(store: store)
        self.hostFacts = hostFacts
        try await hostFacts.refresh()
        pipeline = try PomonaServer.makePipeline(configuration, hosts: hostFacts, logger: logger)
        PomonaServer.forwardLiveQueryResults(registry: registry, pipeline: pipeline, logger: logger)
        agentService = AgentService(
            store: store, writer: writer, registry: registry, configState: configState, logSink: PipelineLogSink(pipeline: pipeline),
            limits: PomonaServer.agentLimits(configuration),
            enrollLimits: .init(perMinute: configuration.agentFailedEnrollsPerMinute), logger: logger,
            enrollObserver: { hostFacts.enrolled(hostID: $0, record: $1) })
        try await agentService.loadRegistry()
        var adminAPI = AdminAPI(
            store: store, writer: writer, registry: registry, logger: logger, settings: PomonaServer.adminSettings(configuration))
        adminAPI.pipeline = pipeline
        adminAPI.recentErrors = { RecentErrorLog.shared.entries }
        self.adminAPI = adminAPI
        try await configState.refresh(force: true)
    }

    static func agentLimits(_ configuration: ServerConfiguration) -> AgentBodyLimits {
        var limits = AgentBodyLimits()
        limits.inflationBudget = configuration.agentInflateBudgetMB << 20
        limits.maxCarveSize = configuration.carveMaxSizeMB << 20
        return limits
    }

    static func adminSettings(_ configuration: ServerConfiguration) -> AdminSettings {
        var settings = AdminSettings()
        settings.sessionLifetime = TimeInterval(configuration.sessionLifetimeHours) * 3600
        settings.apiTokenLifetime = configuration.apiTokenLifetimeDays == 0 ? nil : TimeInterval(configuration.apiTokenLifetimeDays) * 86400
        settings.loginAttemptsPerMinute = configuration.loginAttemptsPerMinute
        settings.version = PomonaVersion.current
        return settings
    }

    /// First-start and every-start seeding: an enroll secret, the macOS baseline, default options.
    static func seed(store: any FleetStore, configuration: ServerConfiguration, logger: Logger) async throws -> String? {
        var generated: String?
        if let secret = configuration.enrollSecret?.trimmingCharacters(in: .whitespacesAndNewlines) {
            _ = try await store.addEnrollSecret(secret, name: "configured")
        } else if try await store.enrollSecrets().isEmpty {
            let secret = EnrollSecretGenerator.make()
            _ = try await store.addEnrollSecret(secret, name: "generated at first start")
            generated = secret
        }
        if configuration.installMacOSBaseline {
            if try await store.seedQueriesOnce(MacOSBaseline.queries, marker: PomonaServer.baselineMarker) {
                logger.info("installed the macOS baseline schedule", metadata: ["queries": "\(MacOSBaseline.queries.count)"])
            }
        }
        return generated
    }

    /// Pending connections the agent listener's socket may queue (the kernel caps it at
    /// `net.core.somaxconn`, 4096 by default). Hummingbird's default of 256 is small for a fleet
    /// that reconnects at once after this server restarts, each host opening about three
    /// connections; a full queue drops SYNs, which clients retry only after 1, 3, 7 s.
    static let agentListenBacklog = 4096

    static func agentListenerLimits(_ configuration: ServerConfiguration) -> AgentListenerLimits {
        var limits = AgentListenerLimits()
        limits.idleTimeout = .seconds(Int64(configuration.agentIdleTimeout))
        limits.handshakeTimeout = .seconds(Int64(configuration.agentHandshakeTimeout))
        limits.requestDeadlines = RequestDeadlines(
            head: .seconds(Int64(configuration.agentHeaderTimeout)), bodyFloor: .seconds(Int64(configuration.agentBodyTimeout)),
            bodyBytesPerSecond: configuration.agentBodyMinRateKiB << 10)
        limits.connectionsPerAddress = configuration.agentConnectionsPerAddress
        return limits
    }

    /// Serves until a shutdown signal; `onReady` is called once both listeners are bound.
    public func run(onReady: @escaping @Sendable (ServerAddresses) async -> Void = { _ in }) async throws {
        let tlsConfiguration = try tlsFiles.makeServerConfiguration()
        let bound = BoundPorts()
        let probeLatency = ProbeLatency()
        let health = try makeHealth(probeLatency: probeLatency)
        let reportReady: @Sendable (ServerAddresses) async -> Void = { addresses in
            await onReady(addresses)
            // Database opened and migrated in init, both listeners bound: systemd may now start
            // what is ordered after this unit.
            health.notify([("READY", "1"), ("STATUS", health.statusLine())])
        }

        let agentRouter = Router(context: AgentRequestContext.self)
        let agentEndpoints = AgentEndpointTable(
            service: agentService, bodyBudget: BodyBudget(capacity: configuration.agentBodyBudgetMB << 20))
        AgentRoutes.register(on: agentRouter, endpoints: agentEndpoints)
        CollectorRoutes.register(on: agentRouter, pipeline: pipeline, logger: logger)
        HealthRoutes.register(on: agentRouter, server: self, health: health, detailed: false)
        let agentApp = Application(
            router: agentRouter,
            server: try .tls(agentEndpoints.httpServer(limits: Self.agentListenerLimits(configuration)), tlsConfiguration: tlsConfiguration),
            configuration: .init(
                address: .hostname(configuration.agentAddress, port: configuration.agentPort), serverName: "pomona",
                backlog: Self.agentListenBacklog),
            onServerRunning: { channel in
                if let ready = await bound.set(agent: channel.localAddress?.port ?? 0) { await reportReady(ready) }
            }, logger: logger)

        let metrics = ServerMetrics(
            agent: agentEndpoints.metrics, pipeline: PipelineMetrics(pipeline: pipeline), health: health, registry: registry,
            writer: writer, probeLatency: probeLatency, token: configuration.metricsToken, startedAt: startedAt)
        let adminRouter = Router(context: AdminRequestContext.self)
        // Outermost: counts every request with the status it finally got.
        adminRouter.add(middleware: AdminMetricsMiddleware(metrics: metrics.admin))
        // First after it, so it sees the router's 404 for a deep link and answers with the page.
        adminRouter.add(middleware: WebPageMiddleware(assets: webAssets))
        HealthRoutes.register(on: adminRouter, server: self, health: health, detailed: true)
        adminAPI.register(on: adminRouter)
        metrics.register(on: adminRouter)
        let adminApp = Application(
            router: adminRouter,
            server: try .tls(
                .http1(
                    configuration: .init(idleTimeout: .seconds(Int64(configuration.adminIdleTimeout))),
                    handshakeTimeout: .seconds(Int64(configuration.adminHandshakeTimeout))),
                tlsConfiguration: tlsConfiguration),
            configuration: .init(address: .hostname(configuration.adminAddress, port: configuration.adminPort), serverName: "pomona"),
            onServerRunning: { channel in
                if let ready = await bound.set(admin: channel.localAddress?.port ?? 0) { await reportReady(ready) }
            }, logger: logger)

        let registry = self.registry
        let writer = self.writer
        let configState = self.configState
        let logger = self.logger
        let flushSeen: @Sendable () async throws -> Void = {
            let seen = registry.drainSeen()
            if seen.isEmpty { return }
            do { try await writer.write(.seen(seen)) } catch {
                registry.restoreSeen(seen)
                throw error
            }
        }
        let seenFlusher = PeriodicService(
            name: "seen-time flush", interval: .seconds(2), logger: logger, tick: flushSeen,
            onShutdown: { try? await flushSeen() })
        let configRefresher = PeriodicService(
            name: "config refresh", interval: .seconds(2), logger: logger, tick: { try await configState.refresh() })
        let agentService = self.agentService
        let failedEnrollReporter = PeriodicService(
            name: "failed-enroll report", interval: .seconds(10), logger: logger, tick: { agentService.reportFailedEnrolls() })
        let hostFacts = self.hostFacts
        let hostFactsRefresher = PeriodicService(
            name: "host facts refresh", interval: .seconds(10), logger: logger, tick: { try await hostFacts.refresh() })

        // Services stop in reverse order: listeners first (draining requests), then the upkeep.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: HealthService(health: health)),
                    .init(service: seenFlusher), .init(service: configRefresher), .init(service: hostFactsRefresher),
                    .init(service: failedEnrollReporter),
                    .init(service: PipelineService(pipeline: pipeline)),
                    .init(service: agentApp), .init(service: adminApp),
                    .init(service: StoppingNotice(health: health)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        self.group.withLock { $0 = group }
        try await group.run()
        try await store.close()
        logger.info("pomona stopped")
    }
}

extension PomonaServer {
    /// Starts the same graceful shutdown as SIGTERM: stop accepting, drain, flush, close.
    public func shutdown() async {
        if let group = group.withLock({ $0 }) { await group.triggerGracefulShutdown() }
    }
}

/// Collects the two bound ports and reports once both are known.
actor BoundPorts {
    var agent: Int?
    var admin: Int?

    func set(agent port: Int) -> ServerAddresses? {
        agent = port
        return ready()
    }

    func set(admin port: Int) -> ServerAddresses? {
        admin = port
        return ready()
    }

    private func ready() -> ServerAddresses? {
        guard let agent, let admin else { return nil }
        return ServerAddresses(agentPort: agent, adminPort: admin)
    }
}

/// Random enroll secrets: 32 bytes, URL-safe base64.
public enum EnrollSecretGenerator {
    public static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
