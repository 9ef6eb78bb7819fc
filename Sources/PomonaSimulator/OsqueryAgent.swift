import CompressNIO
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One emulated osqueryd talking to a TLS server, as the protocol contract describes it.
///
/// Concurrency contract: an `OsqueryAgent` is an actor that owns its node key, its log buffers and
/// its unsent distributed results. Operations may be called concurrently, like osqueryd's config,
/// distributed, logger and carver threads: while one awaits the network another may run. As in
/// osqueryd, enrollment is single-flight (concurrent callers wait for the one enrollment in
/// progress), and a `node_invalid` answer drops whatever key is current, so overlapping requests
/// can cause the re-enrollment bursts a server must tolerate (spec §2). The ``AgentTransport`` is
/// shared and owned by the caller; under its default policy each agent keeps one keep-alive
/// connection per osqueryd thread, as `--tls_session_reuse` does (spec §6.4).
///
/// ```swift
/// let transport = try AgentTransport(tlsConfiguration: config.tlsConfiguration)
/// let agent = OsqueryAgent(profile: HostProfile(seed: 1, index: 0), configuration: config, transport: transport)
/// try await agent.enroll()
/// let config = try await agent.fetchConfig()
/// try await agent.runDistributedOnce()
/// ```
public actor OsqueryAgent {
    /// The fake host this agent pretends to be.
    public let profile: HostProfile
    /// Wire behaviour.
    public let configuration: OsqueryAgentConfiguration
    /// Where latencies go, if anywhere.
    public let recorder: LatencyRecorder?
    /// The local IPv4 address this agent's connections come from (nil: the system picks).
    public let sourceAddress: String?

    let transport: AgentTransport
    /// The server, parsed from the configuration's base URL once (`nil`: every request fails).
    let target: AgentTransport.Target?
    /// This agent's connections, one pool per osqueryd thread (unless the transport shares one).
    private var threadPools: [AgentThread: SocketPool] = [:]
    /// The cached node key (osqueryd's RocksDB `nodeKey`); `nil` until enrolled or after `node_invalid`.
    public private(set) var nodeKey: String?
    /// How many enroll requests this agent has made.
    public private(set) var enrollRequestCount = 0
    private var enrollment: Task<String, Never>?
    var resultLogs = LogBuffer()
    var statusLogs = LogBuffer()
    /// Distributed results whose write failed; re-sent with the next write (spec §5.3).
    var unsentResults: [String: QueryAnswer] = [:]

    /// Creates an agent; nothing is sent until an operation is called.
    ///
    /// - Parameters:
    ///   - profile: The host identity and dataset.
    ///   - configuration: Server URL, trust, paths and osqueryd knobs.
    ///   - transport: The shared transport (TLS context, connection policy).
    ///   - recorder: Optional shared latency recorder.
    ///   - sourceAddress: The local address to connect from (ignored when the transport shares
    ///     its connections among agents).
    public init(
        profile: HostProfile,
        configuration: OsqueryAgentConfiguration,
        transport: AgentTransport,
        recorder: LatencyRecorder? = nil,
        sourceAddress: String? = nil
    ) {
        self.profile = profile
        self.configuration = configuration
        self.transport = transport
        self.target = AgentTransport.Target(url: configuration.baseURL)
        self.recorder = recorder
        self.sourceAddress = sourceAddress
    }

    /// An agent with a transport of its own (for a few agents; a fleet shares one transport).
    /// - Throws: `NIOSSLError` when the configuration's TLS settings cannot make a context.
    public init(profile: HostProfile, configuration: OsqueryAgentConfiguration, recorder: LatencyRecorder? = nil) throws {
        self.init(
            profile: profile, configuration: configuration,
            transport: try AgentTransport(tlsConfiguration: configuration.tlsConfiguration), recorder: recorder)
    }

    /// Closes this agent's idle connections (osqueryd exiting).
    public func disconnect() {
        for pool in threadPools.values { pool.closeAll() }
        threadPools = [:]
    }

    /// The pool the request's thread uses.
    private func pool(for kind: AgentRequestKind) -> SocketPool {
        if let shared = transport.sharedPool { return shared }
        let thread = AgentThread(kind)
        if let pool = threadPools[thread] { return pool }
        let pool = SocketPool(limit: 1)
        threadPools[thread] = pool
        return pool
    }

    /// The `host_identifier` this agent sends.
    public var hostIdentifier: String { profile.hostIdentifier(configuration.identifierMode) }

    // MARK: - Enrollment

    /// The outcome of an enrollment.
    public struct EnrollResult: Sendable, Equatable {
        public var nodeKey: String
        /// Enroll requests made, including failed ones.
        public var attempts: Int
    }

    /// Enrolls now, replacing any cached key (like `--enroll_always`).
    ///
    /// Retries as osqueryd does: after failed attempt *n* it waits `min(n², enrollMaxInterval)` s.
    /// - Throws: ``AgentError`` with code ``AgentError/Code/enrollFailed`` when every attempt failed.
    @discardableResult
    public func enroll() async throws -> EnrollResult {
        nodeKey = nil
        let outcome = await performEnrollment()
        switch outcome.verdict {
        case .enrolled(let key):
            nodeKey = key
            return EnrollResult(nodeKey: key, attempts: outcome.attempts)
        default:
            throw AgentError(code: .enrollFailed, kind: .enroll, verdict: outcome.verdict, attempts: outcome.attempts)
        }
    }

    /// The enroll request body, exactly as §1.2 (keys in osqueryd's order).
    public func enrollBody() -> JSONObject {
        [
            "enroll_secret": .string(configuration.enrollSecret),
            "host_identifier": .string(hostIdentifier),
            "platform_type": .string(profile.platformType),
            "host_details": .object(profile.hostDetails),
        ]
    }

    /// `getNodeKey`: the cached key, or a single-flight enrollment. Like osqueryd, a failed
    /// enrollment yields `""` and the caller goes on with it.
    func currentNodeKey() async -> String {
        if let nodeKey { return nodeKey }
        if let enrollment { return await enrollment.value }
        let task = Task { () -> String in
            let outcome = await self.performEnrollment()
            if case .enrolled(let key) = outcome.verdict { return key }
            return ""
        }
        enrollment = task
        let key = await task.value
        enrollment = nil
        nodeKey = key.isEmpty ? nil : key
        return key
    }

    private func performEnrollment() async -> (verdict: AgentResponseJudgement, attempts: Int) {
        let body = JSONValue.object(enrollBody()).compactData()
        var attempt = 0
        while true {
            attempt += 1
            enrollRequestCount += 1
            let verdict = await exchange(.enroll, body: body, nodeKeyHeader: nil)
            if verdict.isSuccess { return (verdict, attempt) }
            if configuration.enrollMaxAttempts > 0 && attempt >= configuration.enrollMaxAttempts {
                return (verdict, attempt)
            }
            let wait = min(Int64(attempt * attempt), configuration.enrollMaxInterval)
            try? await configuration.sleep(.seconds(wait))
        }
    }

    // MARK: - Helper requests (spec §2)

    /// The result of a helper request that succeeded.
    struct HelperSuccess {
        var object: JSONObject
        var raw: Data
        var attempts: Int
    }

    /// `TLSRequestHelper::go` plus the endpoint's retry loop: sleep `i²` s after failed attempt *i*.
    /// `node_invalid` drops the key, so the next attempt re-enrolls.
    func helperRequest(
        _ kind: AgentRequestKind,
        body: JSONObject,
        maxAttempts: Int,
        gzip: Bool = false
    ) async throws -> HelperSuccess {
        var attempt = 0
        var last = AgentResponseJudgement.transportFailure("no attempt made")
        while attempt < max(maxAttempts, 1) {
            attempt += 1
            let key = await currentNodeKey()
            var body = body
            body["node_key"] = .string(key)
            var data = JSONValue.object(body).compactData()
            var extraHeaders: [(String, String)] = []
            if gzip, let compressed = Self.gzip(data) {
                data = compressed
                extraHeaders.append(("Content-Encoding", "gzip"))
            }
            var raw = Data()
            last = await exchange(kind, body: data, nodeKeyHeader: key, extraHeaders: extraHeaders, rawBody: &raw)
            switch last {
            case .success(let object):
                return HelperSuccess(object: object, raw: raw, attempts: attempt)
            case .nodeInvalid:
                // osqueryd clears whatever key is cached now, even one a concurrent request just got.
                nodeKey = nil
            default:
                break
            }
            if attempt < maxAttempts {
                try? await configuration.sleep(.seconds(Int64(attempt * attempt)))
            }
        }
        let code: AgentError.Code = if case .nodeInvalid = last { .nodeInvalid } else { .requestFailed }
        throw AgentError(code: code, kind: kind, verdict: last, attempts: attempt)
    }

    // MARK: - Config

    /// A fetched configuration.
    public struct ConfigResult: Sendable, Equatable {
        /// The parsed config document (`{}` for an empty body).
        public var config: JSONObject
        /// The response body bytes as received.
        public var raw: Data
        public var attempts: Int
    }

    /// POSTs `{"node_key":…}` to the config endpoint with up to `configMaxAttempts` attempts.
    /// - Throws: ``AgentError`` when every attempt failed.
    public func fetchConfig() async throws -> ConfigResult {
        let result = try await helperRequest(.config, body: [:], maxAttempts: configuration.configMaxAttempts)
        return ConfigResult(config: result.object, raw: result.raw, attempts: result.attempts)
    }

    // MARK: - Transport

    func exchange(
        _ kind: AgentRequestKind,
        body: Data,
        nodeKeyHeader: String?,
        extraHeaders: [(String, String)] = []
    ) async -> AgentResponseJudgement {
        var ignored = Data()
        return await exchange(kind, body: body, nodeKeyHeader: nodeKeyHeader, extraHeaders: extraHeaders, rawBody: &ignored)
    }

    /// One HTTP exchange, judged and timed. Never throws: transport errors become verdicts.
    func exchange(
        _ kind: AgentRequestKind,
        body: Data,
        nodeKeyHeader: String?,
        extraHeaders: [(String, String)] = [],
        rawBody: inout Data
    ) async -> AgentResponseJudgement {
        var headers: [(String, String)] = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("User-Agent", "osquery/\(profile.osqueryVersion)"),
        ]
        if configuration.acceptGzip { headers.append(("Accept-Encoding", "gzip")) }
        if configuration.sendsAuthorizationHeader, let nodeKeyHeader, !nodeKeyHeader.isEmpty {
            headers.append(("Authorization", "NodeKey \(nodeKeyHeader)"))
        }
        headers.append(contentsOf: extraHeaders)

        let clock = ContinuousClock()
        let start = clock.now
        let verdict: AgentResponseJudgement
        if let target {
            let request = AgentHTTPRequest(
                path: configuration.endpoints.path(for: kind),
                host: target.hostHeader,
                headers: headers, body: ByteBuffer(data: body))
            let timeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeout.components.seconds) * 1_000_000_000
                + configuration.requestTimeout.components.attoseconds / 1_000_000_000)
            do {
                let response = try await transport.send(
                    request, to: target, from: transport.sharedPool == nil ? sourceAddress : nil, pool: pool(for: kind),
                    sessionTimeout: configuration.sessionTimeout,
                    deadline: .now() + timeout, maxResponseBytes: configuration.maxResponseBytes)
                rawBody = Data(buffer: response.body)
                verdict = AgentResponseJudgement.judge(kind, body: rawBody, headers: response.headers, acceptGzip: configuration.acceptGzip)
            } catch {
                verdict = .transportFailure(String(describing: error))
            }
        } else {
            verdict = .transportFailure("the server URL \(configuration.baseURL) is not https://host:port")
        }
        recorder?.record(kind, duration: clock.now - start, success: verdict.isSuccess)
        return verdict
    }

    /// gzip (zlib gzip wrapper, level 9) as `--logger_tls_compress` produces it.
    static func gzip(_ data: Data) -> Data? {
        var input = ByteBuffer(data: data)
        let compressor = CompressionAlgorithm.gzip(configuration: .init(compressionLevel: .bestCompression)).compressor
        do {
            // zlib's deflateBound (maxSize) needs a started stream, so start it first and always end it.
            try compressor.startStream()
            defer { try? compressor.finishStream() }
            var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
            try compressor.streamDeflate(from: &input, to: &output, flush: .finish)
            return Data(buffer: output)
        } catch {
            return nil
        }
    }
}
