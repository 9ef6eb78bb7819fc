import Foundation
import Logging
import PomonaCore
import PomonaStore
import Synchronization

/// The agent-facing view of the configuration, compiled once and served from memory.
///
/// Holds the active enroll secrets and the config bytes per platform family. ``refresh()`` reloads
/// from the database when its generation counter moved (any change to queries, packs, options or
/// secrets, by the server itself or by the `pomona` CLI in another process), so `/config` never
/// touches SQLite and never re-encodes JSON.
public final class AgentConfigState: Sendable {
    struct Snapshot {
        var generation: Int64 = -1
        var secrets: [EnrollSecret] = []
        var configs: [String: [UInt8]] = [:]
    }

    let store: Datastore
    let logger: Logger
    private let snapshot = Mutex(Snapshot())

    public init(store: Datastore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public var generation: Int64 { snapshot.withLock { $0.generation } }

    /// Reloads if the database generation changed. Returns whether it did.
    @discardableResult
    public func refresh(force: Bool = false) throws -> Bool {
        let generation = try store.configGeneration()
        if !force, generation == self.generation { return false }
        let sources = ConfigSources(
            agentOptions: try store.agentOptions() ?? .default, servedOptionNames: try store.servedOptionNames(),
            globalQueries: try store.queries(), packs: try store.packs())
        var configs: [String: [UInt8]] = [:]
        for platform in [nil] + OsqueryPlatform.allCases.map(Optional.some) {
            let key = platform?.rawValue ?? "unknown"
            do {
                configs[key] = try ConfigCompiler.compile(sources, platform: platform)
            } catch {
                // Keep serving the last good config: a config osquery rejects would leave agents
                // with whatever they had anyway, and this way new agents still get a schedule.
                logger.error("config not updated", metadata: ["platform": "\(key)", "error": "\(error)"])
                if let old = snapshot.withLock({ $0.configs[key] }) { configs[key] = old }
            }
        }
        let secrets = try store.enrollSecrets()
        snapshot.withLock { s in
            s.generation = generation
            s.secrets = secrets
            s.configs = configs
        }
        logger.info("agent config compiled", metadata: [
            "generation": "\(generation)", "bytes": "\(configs.mapValues(\.count))", "enroll_secrets": "\(secrets.count)",
        ])
        return true
    }

    /// The config document for a host of this platform family.
    public func config(for platform: OsqueryPlatform?) -> [UInt8]? {
        snapshot.withLock { $0.configs[platform?.rawValue ?? "unknown"] }
    }

    /// The active secret equal to `candidate`, compared in constant time against every secret.
    public func matchEnrollSecret(_ candidate: String) -> EnrollSecret? {
        let secrets = snapshot.withLock { $0.secrets }
        var match: EnrollSecret?
        let given = Array(candidate.utf8)
        for secret in secrets where ConstantTime.equal(Array(secret.secret.utf8), given) {
            match = secret
        }
        return match
    }
}

/// Comparison whose running time does not depend on where two byte strings differ.
enum ConstantTime {
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        let count = max(a.count, b.count)
        for i in 0..<count {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
