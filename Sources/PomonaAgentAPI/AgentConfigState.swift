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
///
/// Packs with targets go only to targeted hosts. A host's "audience" is its platform plus the
/// targeted packs it gets (from its id and its memberships of the labels packs target); each
/// audience's config is compiled on first use and kept until the next generation. There are as
/// many audiences as distinct combinations in use, a handful, not one per host. Memberships of
/// target labels are reloaded with every generation change and every
/// ``membershipReloadInterval``, so a host that joins a label gets the pack on its next config
/// refresh after that.
public final class AgentConfigState: Sendable {
    struct Snapshot {
        var generation: Int64 = -1
        var secrets: [EnrollSecret] = []
        /// Per platform family: the config without any targeted pack.
        var configs: [String: [UInt8]] = [:]
        var sources: ConfigSources?
        /// Indexes into `sources.packs` of the packs with targets, and their targets.
        var targeted: [(index: Int, targets: PackTargets)] = []
        /// Host id → the target labels it is a member of.
        var memberships: [Int64: Set<Int64>] = [:]
        var membershipsLoadedAt: ContinuousClock.Instant?
        var audiences: [Audience: [UInt8]] = [:]
    }

    /// A platform family and the targeted packs a host of it gets.
    struct Audience: Hashable {
        var platform: String
        var packs: [Int]
    }

    let store: any FleetStore
    let logger: Logger
    let membershipReloadInterval: Duration
    private let snapshot = Mutex(Snapshot())

    public init(store: any FleetStore, logger: Logger, membershipReloadInterval: Duration = .seconds(30)) {
        self.store = store
        self.logger = logger
        self.membershipReloadInterval = membershipReloadInterval
    }

    public var generation: Int64 { snapshot.withLock { $0.generation } }

    /// Reloads if the database generation changed (and target-label memberships when they are
    /// due). Returns whether the configuration was reloaded.
    @discardableResult
    public func refresh(force: Bool = false) async throws -> Bool {
        let generation = try await store.configGeneration()
        if !force, generation == self.generation {
            try await reloadMembershipsIfDue()
            return false
        }
        let sources = ConfigSources(
            agentOptions: try await store.agentOptions() ?? .default, servedOptionNames: try await store.servedOptionNames(),
            globalQueries: try await store.queries(), packs: try await store.packs())
        let targeted = sources.packs.enumerated().compactMap { index, pack in
            pack.targets.flatMap { $0.isEmpty ? nil : (index: index, targets: $0) }
        }
        var untargeted = sources
        untargeted.packs = sources.packs.filter { $0.targets?.isEmpty ?? true }
        var configs: [String: [UInt8]] = [:]
        for platform in [nil] + OsqueryPlatform.allCases.map(Optional.some) {
            let key = platform?.rawValue ?? "unknown"
            do {
                configs[key] = try ConfigCompiler.compile(untargeted, platform: platform)
            } catch {
                // Keep serving the last good config: a config osquery rejects would leave agents
                // with whatever they had anyway, and this way new agents still get a schedule.
                logger.error("config not updated", metadata: ["platform": "\(key)", "error": "\(error)"])
                if let old = snapshot.withLock({ $0.configs[key] }) { configs[key] = old }
            }
        }
        let secrets = try await store.enrollSecrets()
        let labels = targeted.reduce(into: Set<Int64>()) { $0.formUnion($1.targets.labelIDs) }
        let memberships = try await store.labelMemberships(labelIDs: labels)
        snapshot.withLock { s in
            s.generation = generation
            s.secrets = secrets
            s.configs = configs
            s.sources = sources
            s.targeted = targeted
            s.memberships = memberships
            s.membershipsLoadedAt = .now
            s.audiences = [:]
        }
        logger.info("agent config compiled", metadata: [
            "generation": "\(generation)", "bytes": "\(configs.mapValues(\.count))", "enroll_secrets": "\(secrets.count)",
            "targeted_packs": "\(targeted.count)",
        ])
        return true
    }

    private func reloadMembershipsIfDue() async throws {
        let labels: Set<Int64>? = snapshot.withLock { s in
            guard !s.targeted.isEmpty, let loaded = s.membershipsLoadedAt, loaded.duration(to: .now) >= membershipReloadInterval else { return nil }
            return s.targeted.reduce(into: Set<Int64>()) { $0.formUnion($1.targets.labelIDs) }
        }
        guard let labels else { return }
        let memberships = try await store.labelMemberships(labelIDs: labels)
        snapshot.withLock { s in
            s.memberships = memberships
            s.membershipsLoadedAt = .now
        }
    }

    /// The config document for a host of this platform family, without targeted packs.
    public func config(for platform: OsqueryPlatform?) -> [UInt8]? {
        snapshot.withLock { $0.configs[platform?.rawValue ?? "unknown"] }
    }

    /// The config document for this host: its platform's, plus the targeted packs it gets.
    public func config(for platform: OsqueryPlatform?, hostID: Int64) -> [UInt8]? {
        let key = platform?.rawValue ?? "unknown"
        enum Lookup { case ready([UInt8]?), compile(ConfigSources, Audience, Int64) }
        let lookup: Lookup = snapshot.withLock { s in
            guard !s.targeted.isEmpty, let sources = s.sources else { return .ready(s.configs[key]) }
            let labels = s.memberships[hostID] ?? []
            let packs = s.targeted.filter { $0.targets.includes(hostID: hostID, labels: labels) }.map(\.index)
            if packs.isEmpty { return .ready(s.configs[key]) }
            let audience = Audience(platform: key, packs: packs)
            if let bytes = s.audiences[audience] { return .ready(bytes) }
            return .compile(sources, audience, s.generation)
        }
        switch lookup {
        case .ready(let bytes):
            return bytes
        case .compile(var sources, let audience, let generation):
            // Compiled outside the lock; two hosts of a new audience at once compile it twice, once.
            let chosen = Set(audience.packs)
            sources.packs = sources.packs.enumerated().filter { index, pack in (pack.targets?.isEmpty ?? true) || chosen.contains(index) }.map(\.1)
            do {
                let bytes = try ConfigCompiler.compile(sources, platform: platform)
                snapshot.withLock { s in if s.generation == generation { s.audiences[audience] = bytes } }
                return bytes
            } catch {
                logger.error("config with targeted packs too large; serving the platform's config", metadata: [
                    "platform": "\(key)", "host_id": "\(hostID)", "error": "\(error)",
                ])
                return config(for: platform)
            }
        }
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
