import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PomonaCore

/// Elasticsearch / OpenSearch `_bulk` with `create` and the event's stable id as `_id`.
///
/// Because every document has a fixed `_id` and is created, never overwritten, any resend is
/// safe: an item that was indexed already answers 409, counted as delivered (a duplicate
/// avoided). That makes two things possible that a non-idempotent receiver forbids: retrying only
/// the items that got 429/5xx, and bisecting a request that was refused as a whole (413 too
/// large, 400 unparseable) until the offending event is isolated and dead-lettered alone.
public final class ElasticsearchBulkOutput: EventOutput {
    public let name: String
    public let batchLimits: OutputBatchLimits
    let endpoint: String
    let headers: HTTPHeaders
    let gzip: Bool
    let encoder: BulkRequestEncoder
    let transport: HTTPOutputTransport

    init(_ configuration: ElasticsearchOutputConfiguration, url: OutputURL, encoder: BulkRequestEncoder,
         transport: HTTPOutputTransport)
    {
        name = configuration.common.name
        batchLimits = configuration.common.batchLimits
        // Only what classification reads comes back: a 10,000-item answer stays small.
        endpoint = url.appending("/_bulk?filter_path=errors,items.*.status,items.*.error")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-ndjson")
        if let apiKey = configuration.apiKey {
            headers.add(name: "Authorization", value: "ApiKey \(apiKey)")
        } else if let username = configuration.username {
            let credentials = Data("\(username):\(configuration.password ?? "")".utf8).base64EncodedString()
            headers.add(name: "Authorization", value: "Basic \(credentials)")
        }
        if configuration.gzip { headers.add(name: "Content-Encoding", value: "gzip") }
        self.headers = headers
        gzip = configuration.gzip
        self.encoder = encoder
        self.transport = transport
    }

    public func send(_ events: [PipelineEvent]) async -> OutputSendResult {
        let encoder = self.encoder
        let delivery = BatchDelivery(maxRequestBytes: batchLimits.maxBytes, encodedSize: { encoder.estimatedSize($0) })
        return await delivery.deliver(events) { slice in await self.request(slice) }
    }

    func request(_ events: ArraySlice<PipelineEvent>) async -> RequestVerdict {
        var body = ByteBufferAllocator().buffer(capacity: events.reduce(0) { $0 + encoder.estimatedSize($1) })
        var memo: [BulkRequestEncoder.IndexMemoKey: String] = [:]
        for event in events { encoder.append(event, to: &body, memo: &memo) }
        if gzip {
            do { body = try GzipBody.compress(body) } catch {
                return .classified(.retryAll(events.count, reason: "gzip failed: \(error)"))
            }
        }
        switch await transport.post(endpoint, headers: headers, body: body) {
        case .failed(let reason):
            return .classified(.retryAll(events.count, reason: reason))
        case .response(let status, let responseHeaders, let responseBody):
            if status == 200 {
                do {
                    return .classified(try BulkResponse.classify(responseBody, count: events.count))
                } catch {
                    // Safe to resend: `create` with fixed ids cannot duplicate.
                    return .classified(.retryAll(events.count, reason: error.reason))
                }
            }
            let reason = "Elasticsearch \(status): \(Self.errorText(responseBody))"
            switch HTTPStatusClass(status: status) {
            case .delivered:
                return .classified(.delivered)
            case .retry:
                return .classified(.retryAll(events.count, reason: reason, after: HTTPOutputTransport.retryAfter(responseHeaders)))
            case .configuration:
                var result = OutputSendResult.retryAll(events.count, reason: reason)
                result.configurationProblem = true
                return .classified(result)
            case .tooLarge, .rejected:
                // 413, or 400 for the whole body (one unparseable line refuses everything):
                // bisect until the culprit is alone; resending the others cannot duplicate.
                return .split(reason: reason)
            }
        }
    }

    /// `error.type: error.reason` of a whole-request error, else the body's start.
    static func errorText(_ body: ByteBuffer) -> String {
        if let root = try? JSONValue.parse(body.readableBytesView), let error = root["error"] {
            if let text = error.stringValue { return text }
            let type = error["type"]?.stringValue ?? "error"
            return "\(type): \(error["reason"]?.stringValue ?? "")"
        }
        return HTTPOutputTransport.snippet(body)
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}
