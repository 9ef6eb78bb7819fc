import NIOCore

/// Writes HEC event-endpoint bodies: one envelope per event, concatenated with a newline (HEC
/// accepts whitespace between objects, and it keeps captured bodies readable). The event body is
/// copied as bytes into `"event"`, never decoded.
struct HECEventEncoder: Sendable {
    var source: String
    var index: String?
    var indexes: [String: String]
    var sourcetypes: [String: String]
    var eventIDField: String?

    /// The envelope's `time`: seconds with millisecond precision (HEC's resolution).
    static func formatTime(_ time: Double) -> String {
        guard time.isFinite, time >= 0 else { return "0" }
        let millis = Int((time * 1000).rounded())
        let fraction = millis % 1000
        return "\(millis / 1000).\(UTCDateFields.pad(fraction, 3))"
    }

    /// Writes the envelope of `event`. `memo` caches the per-sourcetype middle part
    /// (`,"source":…,"sourcetype":…,"index":…`) for the duration of one request.
    func append(_ event: PipelineEvent, to out: inout ByteBuffer, memo: inout [String: ByteBuffer]) {
        out.writeString("{\"time\":")
        out.writeString(Self.formatTime(event.time))
        if !event.host.isEmpty {
            out.writeString(",\"host\":")
            NDJSONLine.appendJSONString(event.host, to: &out)
        }
        var middle: ByteBuffer
        if let cached = memo[event.sourcetype] {
            middle = cached
        } else {
            middle = ByteBuffer()
            middle.writeString(",\"source\":")
            NDJSONLine.appendJSONString(source, to: &middle)
            middle.writeString(",\"sourcetype\":")
            NDJSONLine.appendJSONString(sourcetypes[event.sourcetype] ?? event.sourcetype, to: &middle)
            if let index = indexes[event.sourcetype] ?? index {
                middle.writeString(",\"index\":")
                NDJSONLine.appendJSONString(index, to: &middle)
            }
            memo[event.sourcetype] = middle
        }
        out.writeBuffer(&middle)
        if let eventIDField {
            out.writeString(",\"fields\":{")
            NDJSONLine.appendJSONString(eventIDField, to: &out)
            out.writeString(":")
            NDJSONLine.appendJSONString(event.id, to: &out)
            out.writeString("}")
        }
        out.writeString(",\"event\":")
        var body = event.body
        out.writeBuffer(&body)
        out.writeString("}\n")
    }

    /// Upper bound of the bytes ``append(_:to:)`` writes for `event` (for cutting requests).
    func estimatedSize(_ event: PipelineEvent) -> Int {
        event.body.readableBytes + event.host.utf8.count + event.sourcetype.utf8.count + event.id.utf8.count
            + source.utf8.count + (index?.utf8.count ?? 0) + 160
    }
}
