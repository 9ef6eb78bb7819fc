import NIOCore

/// Writes `_bulk` bodies: per event a `create` action with our stable `_id` (a retry of an
/// already-indexed event then gets 409 instead of a second copy), then the event bytes as they
/// are, on one line.
struct BulkRequestEncoder: Sendable {
    let defaultIndex: IndexNamePattern
    let indexes: [String: IndexNamePattern]

    func indexName(for event: PipelineEvent) -> String {
        (indexes[event.sourcetype] ?? defaultIndex).name(at: event.time)
    }

    func append(_ event: PipelineEvent, to out: inout ByteBuffer) {
        out.writeString("{\"create\":{\"_index\":")
        NDJSONLine.appendJSONString(indexName(for: event), to: &out)
        out.writeString(",\"_id\":")
        NDJSONLine.appendJSONString(event.id, to: &out)
        out.writeString("}}\n")
        NDJSONLine.append(event.body, to: &out)
    }

    func estimatedSize(_ event: PipelineEvent) -> Int {
        event.body.readableBytes + event.id.utf8.count + 96
    }
}
