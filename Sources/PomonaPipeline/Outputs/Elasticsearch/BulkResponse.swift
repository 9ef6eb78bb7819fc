import NIOCore
import PomonaCore

/// The per-item outcome of a `_bulk` answer (spec §5.2): items come back in request order, keyed
/// by the operation name.
enum BulkResponse {
    struct ParseFailure: Error, Equatable {
        let reason: String
    }

    /// Classifies the items of a 200 answer for a request of `count` events.
    static func classify(_ body: ByteBuffer, count: Int) throws(ParseFailure) -> OutputSendResult {
        let root: JSONValue
        do { root = try JSONValue.parse(body.readableBytesView, maxDepth: 16) } catch {
            throw ParseFailure(reason: "bulk response is not JSON: \(error)")
        }
        // `errors: false` means every item succeeded; the items need not be read.
        if case .bool(false)? = root["errors"] { return .delivered }
        guard let items = root["items"]?.arrayValue else { throw ParseFailure(reason: "bulk response has no items") }
        guard items.count == count else {
            throw ParseFailure(reason: "bulk response has \(items.count) items for \(count) documents")
        }
        var result = OutputSendResult()
        for (index, item) in items.enumerated() {
            guard let operation = item.objectMembers?.first?.1, let status = operation["status"]?.intValue else {
                throw ParseFailure(reason: "bulk response item \(index) has no status")
            }
            switch status {
            case 200..<300:
                continue
            case 409:
                // `create` of an _id that exists: an earlier attempt got through.
                result.duplicates += 1
            case 429, 500..<600:
                result.retry.append(index)
                if result.retryReason == nil { result.retryReason = reason(status, operation) }
            default:
                result.rejected[index] = reason(status, operation)
            }
        }
        return result
    }

    /// `400 mapper_parsing_exception: failed to parse field [uid]`
    static func reason(_ status: Int, _ operation: JSONValue) -> String {
        let error = operation["error"]
        let type = error?["type"]?.stringValue ?? error?.stringValue
        let reason = error?["reason"]?.stringValue
        var text = "Elasticsearch item \(status)"
        if let type { text += " \(type)" }
        if let reason { text += ": \(reason)" }
        return text
    }
}
