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
                    let raw: ByteBuffer
                    do {
                        raw = try await request.body.collect(upTo: endpoint.limit)
                    } catch {
                        let refusal = endpoints.tooLarge(endpoint, path: Substring(request.uri.path))
                        return jsonResponse(HTTPResponse.Status(code: refusal.status), refusal.body)
                    }
                    let headers = AgentRequestHeaders(
                        authorization: request.headers[.authorization], contentEncoding: request.headers[.contentEncoding],
                        remoteIP: context.remoteAddress?.ipAddress ?? "")
                    let answer = await endpoints.answer(endpoint, body: raw, headers: headers, path: Substring(request.uri.path))
                    return jsonResponse(HTTPResponse.Status(code: answer.status), answer.body)
                }
            }
        }
    }

    public static func jsonResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
