import Logging
import NIOCore
import NIOHTTP1

/// A generic webhook: `POST` of NDJSON (one event per line, trailing newline), optional gzip.
///
/// Any 2xx delivers the whole request; 408/429/5xx (except 501) and transport failures are
/// retried; 413 splits the request; 401/403/404/407/501/3xx are configuration problems (kept and
/// retried, flagged); any other 4xx rejects the request's events for good. A webhook has no
/// idempotency key, so a timeout after the receiver took the body leads to a duplicate on retry.
public final class HTTPNDJSONOutput: EventOutput {
    public let name: String
    public let batchLimits: OutputBatchLimits
    let url: String
    let headers: HTTPHeaders
    let gzip: Bool
    let transport: HTTPOutputTransport

    init(_ configuration: HTTPOutputConfiguration, url: OutputURL, transport: HTTPOutputTransport) {
        name = configuration.common.name
        batchLimits = configuration.common.batchLimits
        self.url = url.text
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-ndjson")
        for (name, value) in configuration.headers.sorted(by: { $0.key < $1.key }) { headers.replaceOrAdd(name: name, value: value) }
        if configuration.gzip { headers.replaceOrAdd(name: "Content-Encoding", value: "gzip") }
        self.headers = headers
        gzip = configuration.gzip
        self.transport = transport
    }

    public func send(_ events: [PipelineEvent]) async -> OutputSendResult {
        let delivery = BatchDelivery(maxRequestBytes: batchLimits.maxBytes, encodedSize: { $0.body.readableBytes + 1 })
        return await delivery.deliver(events) { slice in await self.request(slice) }
    }

    func request(_ events: ArraySlice<PipelineEvent>) async -> RequestVerdict {
        var body = ByteBufferAllocator().buffer(capacity: events.reduce(0) { $0 + $1.body.readableBytes + 1 })
        for event in events { NDJSONLine.append(event.body, to: &body) }
        if gzip {
            do { body = try GzipBody.compress(body) } catch {
                return .classified(.retryAll(events.count, reason: "gzip failed: \(error)"))
            }
        }
        switch await transport.post(url, headers: headers, body: body) {
        case .failed(let reason):
            return .classified(.retryAll(events.count, reason: reason))
        case .response(let status, let responseHeaders, let responseBody):
            let reason = "HTTP \(status): \(HTTPOutputTransport.snippet(responseBody))"
            switch HTTPStatusClass(status: status) {
            case .delivered:
                return .classified(.delivered)
            case .retry:
                return .classified(.retryAll(events.count, reason: reason, after: HTTPOutputTransport.retryAfter(responseHeaders)))
            case .configuration:
                var result = OutputSendResult.retryAll(events.count, reason: reason)
                result.configurationProblem = true
                return .classified(result)
            case .tooLarge:
                return .split(reason: reason)
            case .rejected:
                return .classified(.rejectAll(events.count, reason: reason))
            }
        }
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}
