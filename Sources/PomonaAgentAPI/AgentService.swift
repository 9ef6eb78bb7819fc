import Crypto
import Foundation
import Logging
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization

/// The osquery agent API as plain functions over bytes: what each endpoint does, with no HTTP.
///
/// Routes (``AgentRoutes``) only read bodies and write the bytes returned here, so every behaviour
/// is testable without a socket. Hot paths (`distributed/read`, `config`) touch only memory: the
/// ``HostRegistry`` and the compiled ``AgentConfigState``. Writes go through the ``StoreWriter``.
public final class AgentService: Sendable {
    public let store: any FleetStore
    public let writer: StoreWriter
    public let registry: HostRegistry
    public let configState: AgentConfigState
    public let logSink: any LogSink
    public let limits: AgentBodyLimits
    /// Where heavy bodies are inflated and read, with the budget all inflation shares.
    public let bodyThread: AgentBodyThread
    public let logger: Logger
    /// Called with every non-detail distributed result (live-query campaigns hook in here).
    public let resultObserver: (@Sendable (DistributedResult) -> Void)?
    /// Called with every host enrolled (the pipeline's host-facts cache indexes it at once).
    public let enrollObserver: (@Sendable (_ hostID: Int64, _ record: EnrollmentRecord) -> Void)?
    /// Failed enrolls per source address: the rate limit and the summed-up log lines.
    let failedEnrolls: Mutex<FailedEnrollLimiter>
    /// Carves hosts announced in answers to carve queries Pomona sent them: the only ones `carve/begin` accepts.
    let expectedCarves = Mutex(ExpectedCarves())

    public init(
        store: any FleetStore, writer: StoreWriter, registry: HostRegistry, configState: AgentConfigState, logSink: any LogSink,
        limits: AgentBodyLimits = AgentBodyLimits(), enrollLimits: FailedEnrollLimiter.Settings = .init(), logger: Logger,
        resultObserver: (@Sendable (DistributedResult) -> Void)? = nil,
        enrollObserver: (@Sendable (_ hostID: Int64, _ record: EnrollmentRecord) -> Void)? = nil
    ) {
        failedEnrolls = Mutex(FailedEnrollLimiter(settings: enrollLimits))
        self.store = store
        self.writer = writer
        self.registry = registry
        self.configState = configState
        self.logSink = logSink
        self.limits = limits
        bodyThread = AgentBodyThread(budget: SharedInflationBudget(limit: limits.inflationBudget))
        self.logger = logger
        self.resultObserver = resultObserver
        self.enrollObserver = enrollObserver
    }

    /// Loads every enrolled host into the registry (at start).
    public func loadRegistry() async throws {
        for (state, digest) in try await store.loadCheckInStates() { registry.register(state, digest: digest) }
        try await reloadEvaluationQueries()
        registry.restoreEvaluationTimes(try await store.hostEvaluationTimes())
        // Live queries of a previous run cannot be answered any more: hosts lost them with the registry.
        let abandoned = try await store.closeAbandonedCampaigns()
        if abandoned > 0 { logger.info("closed live queries left running by the previous run", metadata: ["campaigns": "\(abandoned)"]) }
    }

    /// Reloads the label and policy queries hosts run (call after any change to labels or policies).
    public func reloadEvaluationQueries() async throws {
        registry.setEvaluationQueries(try await store.hostEvaluationQueries())
    }

    // MARK: - Node keys

    static func digest(_ nodeKey: String) -> NodeKeyDigest {
        NodeKeyDigest(bytes: Array(SHA256.hash(data: Array(nodeKey.utf8))))!
    }

    /// A fresh 256-bit node key, URL-safe base64 without padding.
    static func makeNodeKey() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The node key from the body, else from `Authorization: NodeKey <key>` (osquery ≥ 5.23).
    static func nodeKey(body: JSONValue?, authorization: String?) -> String? {
        if let key = body?["node_key"]?.stringValue, !key.isEmpty { return key }
        guard let authorization, let space = authorization.firstIndex(of: " ") else { return nil }
        // The scheme is case-insensitive; compared bytewise (split/lowercased cost more than the rest of a check-in).
        guard authorization[..<space].utf8.elementsEqual("nodekey".utf8, by: { $0 | 0x20 == $1 }) else { return nil }
        var key = authorization[authorization.index(after: space)...]
        while let first = key.first, first == " " || first == "\t" { key = key.dropFirst() }
        while let last = key.last, last == " " || last == "\t" { key = key.dropLast() }
        return key.isEmpty ? nil : String(key)
    }

    func authenticate(body: JSONValue?, authorization: String?, now: Date) throws(AgentError) -> Int64 {
        guard let key = AgentService.nodeKey(body: body, authorization: authorization) else {
            throw .nodeInvalid("missing node_key")
        }
        guard let hostID = registry.authenticate(AgentService.digest(key), now: now) else { throw .nodeInvalid() }
        return hostID
    }

    /// The refusal for an `Authorization: NodeKey` header naming no enrolled host, checked before
    /// a compressed body is inflated. `nil` when the header is absent (the key may be in the body)
    /// or known.
    func refuseUnknownHeaderKey(_ authorization: String?, now: Date = Date()) -> AgentError? {
        guard let key = AgentService.nodeKey(body: nil, authorization: authorization) else { return nil }
        return registry.authenticate(AgentService.digest(key), now: now) == nil ? .nodeInvalid() : nil
    }

    /// Parses a whole body as one JSON object (small bodies; tolerant of invalid UTF-8).
    static func parseObject(_ body: ByteBuffer) throws(AgentError) -> JSONValue {
        let value: JSONValue
        do {
            value = try body.withUnsafeReadableBytes { raw throws(JSONScanError) -> JSONValue in
                var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
                let v = try scanner.parseValue()
                try scanner.expectEnd()
                return v
            }
        } catch {
            throw .badRequest(body.readableBytes == 0 ? "empty body: expected a JSON object" : "malformed JSON: \(error)")
        }
        guard case .object = value else { throw .badRequest("the body must be a JSON object") }
        return value
    }

    // MARK: - Enroll

    /// `enroll`: checks the secret, creates or reuses the host, answers `{"node_key": …}`.
    /// A refusal counts against the source address (``FailedEnrollLimiter``) and is logged
    /// summed up, not line by line.
    public func enroll(body: ByteBuffer, remoteIP: String, now: Date = Date()) async throws(AgentError) -> [UInt8] {
        let request: JSONValue
        let secret: EnrollSecret
        let identifier: String
        do throws(AgentError) {
            (request, secret, identifier) = try AgentService.checkEnroll(body, configState: configState)
        } catch {
            enrollFailed(from: remoteIP, reason: error.message, now: now)
            throw error
        }
        let vitals = EnrollmentDetails.vitals(from: request["host_details"])
        let nodeKey = AgentService.makeNodeKey()
        let digest = AgentService.digest(nodeKey)
        let outcome: EnrollmentOutcome
        let record: EnrollmentRecord
        do {
            record = EnrollmentRecord(
                osqueryHostID: identifier, nodeKeyDigest: digest, enrollSecretID: secret.id, vitals: vitals, remoteIP: remoteIP, now: now)
            outcome = try await store.enroll(record)
        } catch {
            logger.error("enroll failed to save", metadata: ["host_identifier": "\(LogText.escaped(identifier))", "error": "\(error)"])
            throw .internalError("enrollment could not be saved; retry later")
        }
        registry.register(outcome.state, digest: digest)
        enrollObserver?(outcome.hostID, record)
        if !outcome.duplicateUUIDHostIDs.isEmpty {
            logger.warning(
                "duplicate hardware UUID: several hosts share it (cloned machines?); consider --host_identifier=instance",
                metadata: [
                    "uuid": "\(LogText.escaped(vitals.uuid ?? ""))", "host_id": "\(outcome.hostID)",
                    "other_host_ids": "\(outcome.duplicateUUIDHostIDs)",
                ])
        }
        logger.info(
            outcome.reusedExistingHost ? "host re-enrolled" : "host enrolled",
            metadata: [
                "host_id": "\(outcome.hostID)", "host_identifier": "\(LogText.escaped(identifier))",
                "secret": "\(LogText.escaped(secret.name))", "remote": "\(LogText.escaped(remoteIP))",
            ])
        var out = Array("{\"node_key\":".utf8)
        JSONValue.encodeString(nodeKey, into: &out)
        out.append(contentsOf: Array(",\"node_invalid\":false}".utf8))
        return out
    }

    /// What an enroll request must hold before anything is stored: its object, a known secret
    /// and a usable host identifier.
    static func checkEnroll(_ body: ByteBuffer, configState: AgentConfigState) throws(AgentError) -> (JSONValue, EnrollSecret, String) {
        let request = try AgentService.parseObject(body)
        guard let secretText = request["enroll_secret"]?.stringValue else { throw .enrollFailed("missing enroll_secret") }
        guard let secret = configState.matchEnrollSecret(secretText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .enrollFailed("invalid enroll secret")
        }
        guard let identifier = request["host_identifier"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines),
            !identifier.isEmpty
        else { throw .enrollFailed("missing host_identifier") }
        guard identifier.utf8.count <= 255 else { throw .enrollFailed("host_identifier longer than 255 bytes") }
        return (request, secret, identifier)
    }

    // MARK: - Failed enrolls

    /// The refusal for an address over its failed-enroll limit, checked before the body is read.
    func admitEnroll(from remoteIP: String, now: Date = Date()) -> AgentError? {
        let (admitted, due) = failedEnrolls.withLock { limiter in (limiter.admit(remoteIP, now: now), limiter.report(now: now)) }
        log(due)
        return admitted ? nil : .enrollFailed("too many failed enrolls from this address; retry later")
    }

    func enrollFailed(from remoteIP: String, reason: String, now: Date) {
        let (first, due) = failedEnrolls.withLock { limiter in
            (limiter.recordFailure(remoteIP, reason: reason, now: now), limiter.report(now: now))
        }
        log((first.map { [$0] } ?? []) + due)
    }

    /// Writes the failed-enroll sums that are due (the server calls this every few seconds, so an
    /// address that stopped failing still gets its last line).
    public func reportFailedEnrolls(now: Date = Date()) {
        log(failedEnrolls.withLock { $0.report(now: now) })
    }

    private func log(_ reports: [FailedEnrollLimiter.Report]) {
        for report in reports {
            switch report {
            case .first(let source, let reason):
                logger.warning(
                    "\(report.message)",
                    metadata: [
                        "remote": "\(LogText.escaped(source))", "reason": "\(LogText.escaped(reason))",
                        "note": "further failures from this address are summed up once a minute",
                    ])
            case .summary(_, _, let refused, let lastReason, _):
                logger.warning(
                    "\(LogText.escaped(report.message))",
                    metadata: ["refused_by_rate_limit": "\(refused)", "last_reason": "\(LogText.escaped(lastReason))"])
            case .untracked:
                logger.warning("\(report.message)")
            }
        }
    }

    // MARK: - Config

    /// `config`: the compiled config for the host's platform, from memory.
    public func config(body: ByteBuffer, authorization: String?, now: Date = Date()) throws(AgentError) -> [UInt8] {
        let request = try AgentService.parseObject(body)
        let hostID = try authenticate(body: request, authorization: authorization, now: now)
        let platform = registry.host(id: hostID)?.platform
        guard let config = configState.config(for: platform, hostID: hostID) else {
            // Never an empty body: osquery would apply it as an empty config and drop its schedule.
            throw .unavailable("config not ready")
        }
        return config
    }

    // MARK: - Distributed read

    static let emptyRead = Array("{\"queries\":{}}".utf8)

    /// `distributed/read`: queued live queries and due detail queries, or the constant empty answer.
    public func distributedRead(body: ByteBuffer, authorization: String?, now: Date = Date()) throws(AgentError) -> [UInt8] {
        let request = try AgentService.parseObject(body)
        guard let key = AgentService.nodeKey(body: request, authorization: authorization) else { throw .nodeInvalid("missing node_key") }
        guard let (_, plan) = registry.checkIn(AgentService.digest(key), now: now) else { throw .nodeInvalid() }
        if plan.isEmpty { return AgentService.emptyRead }
        var queries: [(String, JSONValue)] = []
        for (name, sql) in plan.queries { queries.append((name, .string(sql))) }
        var members: [(String, JSONValue)] = [("queries", .object(queries))]
        if let accelerate = plan.accelerate { members.append(("accelerate", .number(String(accelerate)))) }
        return JSONValue.object(members).encoded()
    }
}

