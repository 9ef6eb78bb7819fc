import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PomonaCore
import PomonaPipeline

/// `POST /collector` on the agent listener: other sources send JSON events into the pipeline.
///
/// - Auth: `Authorization: Bearer <token>` (or `Splunk <token>`, for HEC-speaking senders),
///   matched in constant time against every configured source's token; the source decides the
///   input name and sourcetype. 401 otherwise.
/// - Body: one JSON object, a JSON array of objects, or NDJSON; `Content-Encoding: gzip`
///   accepted, inflated within a bound. 400 names the line or element at fault; 413 when a
///   bound is exceeded.
/// - 200 `{"accepted": N}` only after the events are durable in the spool; 503 with
///   `Retry-After` when the spool is full (the sender keeps its data and retries).
public enum CollectorRoutes {
    public static let path = "/collector"

    struct Source: Sendable {
        var name: String
        var sourcetype: String
        var digest: [UInt8]
    }

    public static func register(on router: Router<AgentRequestContext>, pipeline: Pipeline, logger: Logger) {
        let settings = pipeline.configuration.collector
        let sources = settings.sources.map { Source(name: $0.name, sourcetype: $0.sourcetype, digest: Array(SHA256.hash(data: Array($0.token.utf8)))) }
        router.post(RouterPath(path)) { request, _ -> Response in
            guard let source = authenticate(request.headers[.authorization], sources) else {
                return reply(.unauthorized, #"{"error":"missing or unknown collector token"}"#, extra: [.wwwAuthenticate: "Bearer"])
            }
            let raw: ByteBuffer
            do { raw = try await request.body.collect(upTo: settings.maxBodyBytes) } catch {
                return refusal(.contentTooLarge, "request body exceeds \(settings.maxBodyBytes) bytes")
            }
            // Inflated on a GCD thread: a large body would hold one of the concurrency pool's two threads.
            let contentEncoding = request.headers[.contentEncoding]
            let inflated = contentEncoding == nil ? .success(raw) : try await offload { () -> Result<ByteBuffer, AgentError> in
                do throws(AgentError) {
                    return .success(try AgentBody.inflate(raw, contentEncoding: contentEncoding, maxInflated: settings.maxInflatedBytes))
                } catch {
                    return .failure(error)
                }
            }
            let body: ByteBuffer
            switch inflated {
            case .success(let buffer): body = buffer
            case .failure(let error): return refusal(error.code == .tooLarge ? .contentTooLarge : .badRequest, error.message)
            }
            let events: [ByteBuffer]
            do throws(CollectorBody.Refusal) { events = try CollectorBody.events(body, maxEventBytes: settings.maxEventBytes) } catch {
                return refusal(error.tooLarge ? .contentTooLarge : .badRequest, error.message)
            }
            do {
                try await pipeline.append(input: source.name, sourcetype: source.sourcetype, hostID: nil, events: events)
            } catch SpoolError.recordTooLarge(let bytes, let limit) {
                return refusal(.contentTooLarge, "batch of \(bytes) bytes exceeds the spool's record limit of \(limit); send smaller batches")
            } catch {
                logger.warning("collector: events not accepted", metadata: ["source": "\(source.name)", "error": "\(error)"])
                return refusal(.serviceUnavailable, "\(error)", extra: [.retryAfter: String(settings.retryAfterSeconds)])
            }
            return reply(.ok, #"{"accepted":\#(events.count)}"#)
        }
    }

    /// The source whose token the header carries. Every source is compared (no early exit) and
    /// each comparison is constant-time over SHA-256 digests, so timing reveals nothing about
    /// which token, or how much of one, matched.
    static func authenticate(_ header: String?, _ sources: [Source]) -> Source? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, ["bearer", "splunk"].contains(parts[0].lowercased()) else { return nil }
        let presented = Array(SHA256.hash(data: Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)))
        var found: Source?
        for source in sources {
            var difference: UInt8 = 0
            for i in 0..<presented.count { difference |= presented[i] ^ source.digest[i] }
            if difference == 0 { found = source }
        }
        return found
    }

    static func refusal(_ status: HTTPResponse.Status, _ message: String, extra: HTTPFields = [:]) -> Response {
        var out: [UInt8] = Array(#"{"error":"#.utf8)
        JSONValue.encodeString(message, into: &out)
        out.append(UInt8(ascii: "}"))
        return reply(status, String(decoding: out, as: UTF8.self), extra: extra)
    }

    static func reply(_ status: HTTPResponse.Status, _ json: String, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
}
