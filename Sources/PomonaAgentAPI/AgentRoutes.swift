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
/// Requests from osqueryd never get here: ``AgentWireHandler`` answers them from the bytes. These
/// routes serve connections it handed over (a client that sends `Connection: close`, a chunked
/// body, or another request first) from the same ``AgentEndpointTable``, so the answer is the
/// same either way.
public enum AgentRoutes {
    public static func register(on router: Router<AgentRequestContext>, endpoints: AgentEndpointTable) {
        for prefix in AgentEndpointTable.prefixes {
            for endpoint in endpoints.all {
                router.post(RouterPath(prefix + endpoint.path)) { request, context in
                    let path = Substring(request.uri.path)
                    // Held until the answer: the body is in memory until then.
                    var charge = BodyCharge()
                    defer { charge.release(to: endpoints.bodyBudget) }
                    let raw: ByteBuffer
                    switch await collect(request, endpoint: endpoint, endpoints: endpoints, charge: &charge) {
                    case .success(let body):
                        raw = body
                    case .failure(let refusal):
                        return jsonResponse(HTTPResponse.Status(code: refusal.status), refusal.body)
                    }
                    let headers = AgentRequestHeaders(
                        authorization: request.headers[.authorization], contentEncoding: request.headers[.contentEncoding],
                        remoteIP: context.remoteAddress?.ipAddress ?? "")
                    let answer = await endpoints.answer(endpoint, body: raw, headers: headers, path: path)
                    return jsonResponse(HTTPResponse.Status(code: answer.status), answer.body)
                }
            }
        }
    }

    /// A refusal while reading a body, as an answer.
    struct Refusal: Error {
        var status: Int
        var body: [UInt8]
    }

    /// Reads the body within the endpoint's limit, charging it to the body budget as it comes
    /// unless the NodeKey header authenticates it (as ``AgentWireHandler`` does on the fast path).
    /// A body the HTTP parser cannot frame (a malformed chunk) is a bad request, not a large one.
    static func collect(
        _ request: Request, endpoint: AgentEndpoint, endpoints: AgentEndpointTable, charge: inout BodyCharge
    ) async -> Result<ByteBuffer, Refusal> {
        let path = Substring(request.uri.path)
        var authenticated: Bool?
        var body = ByteBuffer()
        do {
            for try await var chunk in request.body {
                guard chunk.readableBytes <= endpoint.limit - body.readableBytes else {
                    let refusal = endpoints.tooLarge(endpoint, path: path)
                    return .failure(Refusal(status: refusal.status, body: refusal.body))
                }
                body.writeBuffer(&chunk)
                guard body.readableBytes > BodyBudget.freeBytes else { continue }
                if authenticated == nil { authenticated = endpoints.isAuthenticated(authorization: request.headers[.authorization]) }
                if authenticated == false, !charge.hold(body.capacity, in: endpoints.bodyBudget) {
                    let refusal = endpoints.budgetExhausted(path: path, now: .now())
                    return .failure(Refusal(status: refusal.status, body: refusal.body))
                }
            }
        } catch {
            let refusal = AgentError.badRequest("the request body could not be read: \(error)")
            return .failure(Refusal(status: refusal.httpStatus, body: refusal.body))
        }
        return .success(body)
    }

    public static func jsonResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
