import Hummingbird
import Logging
import PomonaAgentAPI
import PomonaCore
import PomonaStore

/// The Fleet-compatible management API on the admin listener, under `/api/v1/fleet` and
/// `/api/latest/fleet` (plus `/api/v1/setup`).
///
/// Each area registers its routes from its own file (`AdminAPI+Hosts.swift`, …) through
/// ``register(on:)``; handlers call `context.requireRole(_:)` before anything else.
public struct AdminAPI: Sendable {
    public static let prefixes = ["/api/v1/fleet", "/api/latest/fleet"]

    public let store: Datastore
    public let writer: StoreWriter
    public let registry: HostRegistry
    public let logger: Logger

    public init(store: Datastore, writer: StoreWriter, registry: HostRegistry, logger: Logger) {
        self.store = store
        self.writer = writer
        self.registry = registry
        self.logger = logger
    }

    public func register(on router: Router<AdminRequestContext>) {
        // Areas add themselves here, one line each.
    }
}
