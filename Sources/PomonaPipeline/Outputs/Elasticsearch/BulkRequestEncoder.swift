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

    /// `memo` caches the index name per sourcetype and hour for the duration of one request.
    func append(_ event: PipelineEvent, to out: inout ByteBuffer, memo: inout [IndexMemoKey: String]) {
        out.writeString("{\"create\":{\"_index\":")
        let key = IndexMemoKey(sourcetype: event.sourcetype, hour: event.time.isFinite ? Int((event.time / 3600).rounded(.down)) : 0)
        let name: String
        if let cached = memo[key] {
            name = cached
        } else {
            name = indexName(for: event)
            memo[key] = name
        }
        NDJSONLine.appendJSONString(name, to: &out)
        out.writeString(",\"_id\":")
        NDJSONLine.appendJSONString(event.id, to: &out)
        out.writeString("}}\n")
        NDJSONLine.append(event.body, to: &out)
    }

    func estimatedSize(_ event: PipelineEvent) -> Int {
        event.body.readableBytes + event.id.utf8.count + 96
    }

    /// Index names depend on the sourcetype and at most the hour of the event.
    struct IndexMemoKey: Hashable {
        var sourcetype: String
        var hour: Int
    }
}
