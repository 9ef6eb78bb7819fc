import Foundation
import Hummingbird
import Logging
import PomonaCore
import PomonaPipeline
import PomonaStore

/// Knobs of the management API (from `ServerConfiguration`; tests shorten them).
public struct AdminSettings: Sendable {
    /// A login session ends this long after its last use (sliding).
    public var sessionLifetime: TimeInterval = 24 * 3600
    /// API-only users' tokens end this long after creation; `nil`: never.
    public var apiTokenLifetime: TimeInterval? = nil
    /// Login attempts per minute, per email and per client address.
    public var loginAttemptsPerMinute = 10
    /// PBKDF2 rounds for new password hashes (tests lower it; the server never goes below 210,000).
    public var passwordRounds = PasswordHashing.defaultRounds
    /// The server version reported by `GET /version`.
    public var version = "dev"

    public init() {}
}

/// The Fleet-compatible management API on the admin listener, under `/api/v1/fleet` and
/// `/api/latest/fleet` (plus `/api/v1/setup`).
///
/// Each area registers its routes from its own file (`AdminAPI+Hosts.swift`, …) through
/// ``register(on:)``; handlers call `context.requireRole(_:)` before anything else. `register`
/// also installs the authentication middleware, which applies to every route of the router.
public struct AdminAPI: Sendable {
    public static let prefixes = ["/api/v1/fleet", "/api/latest/fleet"]

    public let store: any FleetStore
    public let writer: StoreWriter
    public let registry: HostRegistry
    public let logger: Logger
    public let settings: AdminSettings
    public let loginLimiter: LoginRateLimiter
    /// The current time (tests move it to check expiry).
    public let clock: @Sendable () -> Date
    /// The event pipeline, for `GET /api/v1/pomona/pipeline/stats` (nil: not running).
    public var pipeline: Pipeline? = nil
    /// The last error-level log lines, for `GET /api/v1/pomona/debug` (the server wires its log in).
    public var recentErrors: @Sendable () -> [RecentLogLine] = { [] }

    public init(store: any FleetStore, writer: StoreWriter, registry: HostRegistry, logger: Logger) {
        self.init(store: store, writer: writer, registry: registry, logger: logger, settings: AdminSettings())
    }

    public init(
        store: any FleetStore, writer: StoreWriter, registry: HostRegistry, logger: Logger, settings: AdminSettings,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.writer = writer
        self.registry = registry
        self.logger = logger
        self.settings = settings
        self.loginLimiter = LoginRateLimiter(attemptsPerMinute: settings.loginAttemptsPerMinute)
        self.clock = clock
    }

    public func register(on router: Router<AdminRequestContext>) {
        router.add(middleware: AdminAuthMiddleware(api: self))
        // Areas add themselves here, one line each.
        registerSession(on: router)
        registerUsers(on: router)
        registerHosts(on: router)
        registerSoftware(on: router)
        registerSettings(on: router)
        registerActivities(on: router)
        registerCarves(on: router)
        registerDebug(on: router)
        registerQueries(on: router)
        registerLabels(on: router)
        registerPolicies(on: router)
        registerLiveQueries(on: router)
        registerPacks(on: router)
        registerQuerySpecs(on: router)
        registerApplySpecs(on: router)
        registerPipeline(on: router)
    }

    /// Adds a route under every API prefix (`/api/v1/fleet/...` and `/api/latest/fleet/...`).
    func route(
        _ router: Router<AdminRequestContext>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, AdminRequestContext) async throws -> Response
    ) {
        // A change the store refuses (a built-in record, an ambiguous host, …) is the client's
        // error, whatever route it came from.
        let handler: @Sendable (Request, AdminRequestContext) async throws -> Response = { request, context in
            do {
                return try await handler(request, context)
            } catch let error as FleetStoreError {
                throw error.apiError
            }
        }
        for prefix in AdminAPI.prefixes {
            router.on(RouterPath(prefix + path), method: method, use: handler)
        }
    }
}
