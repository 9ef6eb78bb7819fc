import Logging
import NIOCore
import PomonaCore

/// What an agent request carries besides its body.
public struct AgentRequestHeaders: Sendable {
    public var authorization: String?
    public var contentEncoding: String?
    /// The peer's address, recorded at enrollment as the host's remote IP.
    public var remoteIP: String

    public init(authorization: String?, contentEncoding: String?, remoteIP: String) {
        self.authorization = authorization
        self.contentEncoding = contentEncoding
        self.remoteIP = remoteIP
    }
}

/// One osquery endpoint: its path under ``AgentEndpointTable/prefixes``, its body limits and the
/// service call. Both ways a request can arrive (``AgentWireHandler`` in front of the HTTP server,
/// and the Hummingbird routes behind it) answer from this one table, so they cannot disagree.
public struct AgentEndpoint: Sendable {
    public enum Work: Sendable {
        /// Answered from memory without suspending (config, distributed/read): run right where
        /// the request was read, on its event loop.
        case immediate(@Sendable (ByteBuffer, AgentRequestHeaders) throws(AgentError) -> [UInt8])
        /// May wait on SQLite: run as a task.
        case suspending(@Sendable (ByteBuffer, AgentRequestHeaders) async throws(AgentError) -> [UInt8])
        /// Checked where it was read, answered later through the callback (exactly once, from any
        /// thread) without a task: `/log`, whose answer waits only for the spool's fsync.
        case completing(@Sendable (ByteBuffer, AgentRequestHeaders, @escaping @Sendable (Result<[UInt8], AgentError>) -> Void) -> Void)
    }

    /// An answer: HTTP status (for people; osquery reads only the body) and body.
    public typealias Answer = (status: Int, body: [UInt8])

    public let path: String
    /// Bound on the body as received.
    public let limit: Int
    /// Bound on the body after gzip inflation.
    public let inflatedLimit: Int
    /// Checked before the body is touched (nothing inflated or parsed): the request's headers and
    /// whether its body is compressed; a refusal here costs nothing.
    public let admit: @Sendable (AgentRequestHeaders, _ compressed: Bool) -> AgentError?
    public let work: Work
}

/// The osquery endpoints, served under both `/api/osquery/*` and `/api/v1/osquery/*`.
public struct AgentEndpointTable: Sendable {
    public static let prefixes = ["/api/osquery", "/api/v1/osquery"]

    public let service: AgentService
    /// Bounds the bytes buffered for bodies not authenticated yet, on both ways a request arrives.
    public let bodyBudget: BodyBudget
    public let all: [AgentEndpoint]
    /// Requests by endpoint and status, and their latency (read by `/metrics`).
    public let metrics: AgentRequestMetrics
    /// Full request path (prefix + endpoint path) → endpoint.
    private let byFullPath: [String: AgentEndpoint]

    public init(service: AgentService, bodyBudget: BodyBudget = BodyBudget(capacity: 128 << 20)) {
        self.service = service
        self.bodyBudget = bodyBudget
        let limits = service.limits
        // A compressed body is inflated only after the key in its `Authorization: NodeKey` header
        // (osquery >= 5.23) was found; without the header it cannot be checked before.
        let headerKey: @Sendable (AgentRequestHeaders, Bool) -> AgentError? = { headers, compressed in
            compressed ? service.refuseUnknownHeaderKey(headers.authorization) : nil
        }
        all = [
            AgentEndpoint(
                path: "/enroll", limit: limits.enroll, inflatedLimit: limits.enroll,
                admit: { headers, _ in service.admitEnroll(from: headers.remoteIP) },
                work: .suspending { body, headers throws(AgentError) in
                    try await service.enroll(body: body, remoteIP: headers.remoteIP)
                }),
            AgentEndpoint(path: "/config", limit: limits.small, inflatedLimit: limits.small, admit: headerKey, work: .immediate { body, headers throws(AgentError) in
                try service.config(body: body, authorization: headers.authorization)
            }),
            AgentEndpoint(path: "/distributed/read", limit: limits.small, inflatedLimit: limits.small, admit: headerKey, work: .immediate { body, headers throws(AgentError) in
                try service.distributedRead(body: body, authorization: headers.authorization)
            }),
            AgentEndpoint(
                path: "/distributed/write", limit: limits.distributedWrite, inflatedLimit: limits.distributedWrite, admit: headerKey,
                work: .suspending { body, headers throws(AgentError) in
                    try await service.distributedWrite(body: body, authorization: headers.authorization)
                }),
            AgentEndpoint(path: "/log", limit: limits.log, inflatedLimit: limits.inflatedLog, admit: headerKey, work: .completing { body, headers, done in
                service.log(body: body, contentEncoding: nil, authorization: headers.authorization, done: done)
            }),
            AgentEndpoint(path: "/carve/begin", limit: limits.small, inflatedLimit: limits.small, admit: headerKey, work: .suspending { body, headers throws(AgentError) in
                try await service.carveBegin(body: body, authorization: headers.authorization)
            }),
            AgentEndpoint(path: "/carve/block", limit: limits.carveBlock, inflatedLimit: limits.carveBlock, admit: headerKey, work: .suspending { body, headers throws(AgentError) in
                try await service.carveBlock(body: body, authorization: headers.authorization)
            }),
        ]
        var byFullPath: [String: AgentEndpoint] = [:]
        for prefix in Self.prefixes {
            for endpoint in all { byFullPath[prefix + endpoint.path] = endpoint }
        }
        self.byFullPath = byFullPath
        metrics = AgentRequestMetrics(endpoints: all.map(\.path))
    }

    /// The endpoint a request target names (any query string ignored), if it is one of ours.
    public func endpoint(target: Substring) -> AgentEndpoint? {
        let path = target.firstIndex(of: "?").map { target[..<$0] } ?? target
        return byFullPath[String(path)]
    }

    /// Runs an `.immediate` endpoint right here when its body is light enough for the event loop
    /// (``AgentBody/isLight(_:coding:inflatedLimit:)``). `nil` for the other kinds and for heavy
    /// bodies (use ``answer(_:body:headers:path:done:)``).
    public func answerNow(_ endpoint: AgentEndpoint, body: ByteBuffer, headers: AgentRequestHeaders, path: Substring) -> AgentEndpoint.Answer? {
        guard case .immediate = endpoint.work else { return nil }
        let start = NIODeadline.now()
        guard let answer = answerLight(endpoint, body: body, headers: headers, path: path) else { return nil }
        metrics.record(endpoint: endpoint.path, status: answer.status, nanoseconds: (NIODeadline.now() - start).nanoseconds)
        return answer
    }

    private func answerLight(_ endpoint: AgentEndpoint, body: ByteBuffer, headers: AgentRequestHeaders, path: Substring) -> AgentEndpoint.Answer? {
        guard case .immediate(let work) = endpoint.work else { return nil }
        let coding: AgentContentCoding
        do throws(AgentError) {
            coding = try admitted(endpoint, headers)
        } catch {
            return refusal(error, path: path)
        }
        guard AgentBody.isLight(body, coding: coding, inflatedLimit: endpoint.inflatedLimit) else { return nil }
        let prepared: PreparedAgentBody
        do throws(AgentError) {
            prepared = try service.bodyThread.prepare(body, coding: coding, maxInflated: endpoint.inflatedLimit)
        } catch {
            return refusal(error, path: path)
        }
        defer { if prepared.charged > 0 { service.bodyThread.budget.release(prepared.charged) } }
        return run(work, prepared.buffer, headers, path: path)
    }

    /// Checks what can be checked from the headers alone; the body's coding if admitted.
    private func admitted(_ endpoint: AgentEndpoint, _ headers: AgentRequestHeaders) throws(AgentError) -> AgentContentCoding {
        let coding = try AgentContentCoding(headers.contentEncoding)
        if let refused = endpoint.admit(headers, coding != .identity) { throw refused }
        return coding
    }

    /// Admits, inflates within the endpoint's bound and the shared budget, and runs the endpoint,
    /// whatever its kind; `done` gets the answer exactly once: on the caller's thread (a refusal
    /// before any work, or a light `.immediate` body), in a task (`.suspending`), on
    /// ``AgentBodyThread`` (a heavy body), or on the thread that completed it.
    ///
    /// Heavy bodies (``AgentBody/isLight(_:coding:inflatedLimit:)``) are inflated and, for
    /// `/log`, scanned on ``AgentBodyThread``, never on the event loop. An uncompressed body for
    /// a `.suspending` endpoint goes straight to its task.
    public func answer(
        _ endpoint: AgentEndpoint, body: ByteBuffer, headers: AgentRequestHeaders, path: Substring,
        done answered: @escaping @Sendable (AgentEndpoint.Answer) -> Void
    ) {
        let start = NIODeadline.now()
        let metrics = self.metrics
        let done: @Sendable (AgentEndpoint.Answer) -> Void = { answer in
            metrics.record(endpoint: endpoint.path, status: answer.status, nanoseconds: (NIODeadline.now() - start).nanoseconds)
            answered(answer)
        }
        let coding: AgentContentCoding
        do throws(AgentError) {
            coding = try admitted(endpoint, headers)
        } catch {
            done(refusal(error, path: path))
            return
        }
        var light = AgentBody.isLight(body, coding: coding, inflatedLimit: endpoint.inflatedLimit)
        if case .suspending = endpoint.work, coding == .identity { light = true }
        if light {
            handle(endpoint, body: body, coding: coding, headers: headers, path: path, done: done)
            return
        }
        let path = Substring(String(path))
        service.bodyThread.run(
            { self.handle(endpoint, body: body, coding: coding, headers: headers, path: path, done: done) },
            cancelled: { done(self.refusal(.unavailable("the server is shutting down; the agent will resend"), path: path)) })
    }

    /// Inflates and runs the endpoint where it is called; the inflated body's share of the budget
    /// is given back once the answer is known (the spool has copied a `/log` batch by then).
    private func handle(
        _ endpoint: AgentEndpoint, body: ByteBuffer, coding: AgentContentCoding, headers: AgentRequestHeaders, path: Substring,
        done: @escaping @Sendable (AgentEndpoint.Answer) -> Void
    ) {
        let prepared: PreparedAgentBody
        do throws(AgentError) {
            prepared = try service.bodyThread.prepare(body, coding: coding, maxInflated: endpoint.inflatedLimit)
        } catch {
            done(refusal(error, path: path))
            return
        }
        let budget = service.bodyThread.budget
        let charged = prepared.charged
        let finish: @Sendable (AgentEndpoint.Answer) -> Void = { answer in
            if charged > 0 { budget.release(charged) }
            done(answer)
        }
        let inflated = prepared.buffer
        switch endpoint.work {
        case .immediate(let work):
            finish(run(work, inflated, headers, path: path))
        case .suspending(let work):
            Task {
                do throws(AgentError) {
                    finish((200, try await work(inflated, headers)))
                } catch {
                    finish(self.refusal(error, path: path))
                }
            }
        case .completing(let work):
            work(inflated, headers) { result in
                switch result {
                case .success(let bytes): finish((200, bytes))
                case .failure(let error): finish(self.refusal(error, path: path))
                }
            }
        }
    }

    private func run(
        _ work: @Sendable (ByteBuffer, AgentRequestHeaders) throws(AgentError) -> [UInt8], _ inflated: ByteBuffer,
        _ headers: AgentRequestHeaders, path: Substring
    ) -> AgentEndpoint.Answer {
        do throws(AgentError) {
            return (200, try work(inflated, headers))
        } catch {
            return refusal(error, path: path)
        }
    }

    /// The same, awaited (the Hummingbird routes).
    public func answer(_ endpoint: AgentEndpoint, body: ByteBuffer, headers: AgentRequestHeaders, path: Substring) async -> AgentEndpoint.Answer {
        await withCheckedContinuation { (continuation: CheckedContinuation<AgentEndpoint.Answer, Never>) in
            answer(endpoint, body: body, headers: headers, path: path) { continuation.resume(returning: $0) }
        }
    }

    /// Whether an `Authorization: NodeKey` header names an enrolled host (osquery ≥ 5.23 sends
    /// it): a hash and a lookup in memory, so it can be asked before a body is read.
    public func isAuthenticated(authorization: String?) -> Bool {
        guard let authorization, let key = AgentService.nodeKey(body: nil, authorization: authorization) else { return false }
        return service.registry.isEnrolled(AgentService.digest(key))
    }

    /// The answer to a body refused because the ``bodyBudget`` is full: `unavailable`, so
    /// osquery keeps what it sent and retries. Logged once a minute with the count, not per request.
    public func budgetExhausted(path: Substring, now: NIODeadline) -> AgentEndpoint.Answer {
        if let refused = bodyBudget.refused(now: now) {
            service.logger.warning(
                "refusing agent request bodies: the budget for bodies not yet authenticated is full",
                metadata: ["refused": "\(refused)", "budget_bytes": "\(bodyBudget.capacity)", "path": "\(path)"])
        }
        let error = AgentError.unavailable("the server is receiving too many request bodies at once; retry later")
        return (error.httpStatus, error.body)
    }

    /// The answer to a body over the endpoint's limit.
    public func tooLarge(_ endpoint: AgentEndpoint, path: Substring) -> AgentEndpoint.Answer {
        refusal(.tooLarge("request body exceeds \(endpoint.limit) bytes"), path: path)
    }

    /// Every failure becomes an ``AgentError`` body, never an empty one. Server-side failures are
    /// errors in the log; refusals of what the agent sent are debug noise.
    private func refusal(_ error: AgentError, path: Substring) -> AgentEndpoint.Answer {
        let metadata: Logger.Metadata = ["path": "\(LogText.escaped(path))", "error": "\(LogText.escaped(error.message))"]
        if error.code == .internalError || error.code == .unavailable {
            service.logger.error("agent request failed", metadata: metadata)
        } else {
            service.logger.debug("agent request refused", metadata: metadata)
        }
        return (error.httpStatus, error.body)
    }
}
