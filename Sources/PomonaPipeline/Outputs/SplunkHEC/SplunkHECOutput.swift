import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Splunk HTTP Event Collector, `/services/collector/event`.
///
/// Partial failure without duplicates: HEC is not atomic per request. When it refuses an event
/// (codes 6, 7, 12, 13, 15) it names it with `invalid-event-number` N, and it has indexed events
/// 0..<N and none after N (spec §5.1). So 0..<N count as delivered, N is rejected (dead-lettered
/// with the reason) and N+1… are sent again at once in a new request — never the whole batch.
///
/// Duplicates remain possible where HEC gives no way to know: a timeout or dropped connection
/// after Splunk accepted a body (retried → duplicated), as in every HEC client without indexer
/// acknowledgement. The optional `event_id_field` puts our stable id into the event's indexed
/// fields for SIEM-side dedup.
public final class SplunkHECOutput: EventOutput {
    public let name: String
    public let batchLimits: OutputBatchLimits
    let endpoint: String
    let headers: HTTPHeaders
    let gzip: Bool
    let encoder: HECEventEncoder
    let transport: HTTPOutputTransport

    init(_ configuration: SplunkHECOutputConfiguration, url: OutputURL, transport: HTTPOutputTransport) {
        name = configuration.common.name
        batchLimits = configuration.common.batchLimits
        endpoint = url.path.contains("/services/collector") ? url.text : url.appending("/services/collector/event")
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Splunk \(configuration.token)")
        headers.add(name: "Content-Type", value: "application/json")
        // A channel is mandatory when the token has indexer acknowledgement on (code 10 otherwise);
        // sending one always costs nothing.
        headers.add(name: "X-Splunk-Request-Channel", value: configuration.channel ?? UUID().uuidString.lowercased())
        if configuration.gzip { headers.add(name: "Content-Encoding", value: "gzip") }
        self.headers = headers
        gzip = configuration.gzip
        encoder = HECEventEncoder(source: configuration.source, index: configuration.index, indexes: configuration.indexes,
                                  sourcetypes: configuration.sourcetypes, eventIDField: configuration.eventIDField)
        self.transport = transport
    }

    public func send(_ events: [PipelineEvent]) async -> OutputSendResult {
        let encoder = self.encoder
        let delivery = BatchDelivery(maxRequestBytes: batchLimits.maxBytes, encodedSize: { encoder.estimatedSize($0) })
        return await delivery.deliver(events) { slice in await self.request(slice) }
    }

    func request(_ events: ArraySlice<PipelineEvent>) async -> RequestVerdict {
        var body = ByteBufferAllocator().buffer(capacity: events.reduce(0) { $0 + encoder.estimatedSize($1) })
        var memo: [String: ByteBuffer] = [:]
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
            switch HECReply.classify(status: status, body: responseBody, eventCount: events.count) {
            case .delivered:
                return .classified(.delivered)
            case .retry(let reason):
                return .classified(.retryAll(events.count, reason: reason, after: HTTPOutputTransport.retryAfter(responseHeaders)))
            case .configuration(let reason):
                var result = OutputSendResult.retryAll(events.count, reason: reason)
                result.configurationProblem = true
                return .classified(result)
            case .rejectAll(let reason):
                return .classified(.rejectAll(events.count, reason: reason))
            case .rejectEvent(let index, let reason):
                return .resend(from: index + 1, OutputSendResult(rejected: [index: reason]))
            case .tooLarge(let reason):
                return .split(reason: reason)
            }
        }
    }

    public func shutdown() async {
        await transport.shutdown()
    }
}
