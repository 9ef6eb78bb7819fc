import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A request context that knows the peer address (recorded at enrollment as the host's remote IP).
public struct AgentRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Agent bodies are bounded per endpoint by ``AgentBodyLimits``; this is only the outer cap.
    public var maxUploadSize: Int { 256 << 20 }
}

/// Registers the osquery endpoints on a router, under both `/api/osquery/*` and `/api/v1/osquery/*`.
///
/// Handlers are thin: read the body within its limit, call ``AgentService``, write the bytes.
/// Every failure becomes an ``AgentError`` body, never an empty one.
public enum AgentRoutes {
    public static let prefixes = ["/api/osquery", "/api/v1/osquery"]

    public static func register(on router: Router<AgentRequestContext>, service: AgentService) {
        let limits = service.limits
        for prefix in prefixes {
            router.post("\(prefix)/enroll") { request, context in
                await respond(request, limit: limits.enroll, service: service) { (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    let ip = context.remoteAddress?.ipAddress ?? ""
                    return try await service.enroll(body: body, remoteIP: ip)
                }
            }
            router.post("\(prefix)/config") { request, _ in
                await respond(request, limit: limits.small, service: service) { (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    try service.config(body: body, authorization: request.headers[.authorization])
                }
            }
            router.post("\(prefix)/distributed/read") { request, _ in
                await respond(request, limit: limits.small, service: service) { (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    try service.distributedRead(body: body, authorization: request.headers[.authorization])
                }
            }
            router.post("\(prefix)/distributed/write") { request, _ in
                await respond(request, limit: limits.distributedWrite, service: service) { (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    try await service.distributedWrite(body: body, authorization: request.headers[.authorization])
                }
            }
            router.post("\(prefix)/log") { request, _ in
                await respond(request, limit: limits.log, inflatedLimit: limits.inflatedLog, service: service) {
                    (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    try await service.log(body: body, contentEncoding: nil, authorization: request.headers[.authorization])
                }
            }
            router.post("\(prefix)/carve/begin") { request, _ in
                await respond(request, limit: limits.small, service: service) { (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    try await service.carveBegin(body: body, authorization: request.headers[.authorization])
                }
            }
            router.post("\(prefix)/carve/block") { request, _ in
                await respond(request, limit: limits.carveBlock, service: service) { (body: ByteBuffer) async throws(AgentError) -> [UInt8] in
                    try await service.carveBlock(body: body, authorization: request.headers[.authorization])
                }
            }
        }
    }

    /// Reads the body within `limit`, inflates it if it is gzip (osquery compresses only logs, but
    /// proxies and other clients may compress anything; the inflated size is capped too), runs
    /// `work`, and maps the outcome to a response.
    static func respond(
        _ request: Request, limit: Int, inflatedLimit: Int? = nil, service: AgentService,
        _ work: (ByteBuffer) async throws(AgentError) -> [UInt8]
    ) async -> Response {
        let raw: ByteBuffer
        do {
            raw = try await request.body.collect(upTo: limit)
        } catch {
            return errorResponse(.tooLarge("request body exceeds \(limit) bytes"))
        }
        do {
            let body = try AgentBody.inflate(raw, contentEncoding: request.headers[.contentEncoding], maxInflated: inflatedLimit ?? limit)
            return jsonResponse(.ok, try await work(body))
        } catch {
            if error.code == .internalError || error.code == .unavailable {
                service.logger.error("agent request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error.message)"])
            } else {
                service.logger.debug("agent request refused", metadata: ["path": "\(request.uri.path)", "error": "\(error.message)"])
            }
            return errorResponse(error)
        }
    }

    public static func errorResponse(_ error: AgentError) -> Response {
        jsonResponse(HTTPResponse.Status(code: error.httpStatus), error.body)
    }

    public static func jsonResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
