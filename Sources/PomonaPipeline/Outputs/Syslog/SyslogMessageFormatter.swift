import NIOCore

/// RFC 5424 messages for events:
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [sd-id id="…"] {event json}`
///
/// PROCID is `-` (a forwarder's pid says nothing about the event). HOSTNAME is the event's host,
/// MSGID its sourcetype, both cut to their RFC lengths and limited to printable ASCII. The MSG is
/// the event JSON as bytes (raw line breaks, insignificant in JSON, become spaces so that
/// receivers which split on LF still see one message), without a BOM.
struct SyslogMessageFormatter: Sendable {
    var facility: Int
    var severity: Int
    var appName: String
    var structuredDataID: String
    /// 0 = no limit.
    var maxMessageBytes: Int

    var pri: Int { facility * 8 + severity }

    /// Writes the message for `event` to `out`; returns whether the event had to be cut.
    @discardableResult
    func append(_ event: PipelineEvent, to out: inout ByteBuffer) -> Bool {
        var header = "<\(pri)>1 \(UTCDateFields(epochSeconds: event.time).rfc3339) "
        header += Self.headerField(event.host, maxLength: 255)
        header += " "
        header += appName
        header += " - "
        header += Self.headerField(event.sourcetype, maxLength: 32)
        header += " "
        if structuredDataID.isEmpty {
            header += "-"
        } else {
            header += "[\(structuredDataID) id=\"\(Self.escapeParamValue(event.id))\"]"
        }
        header += " "
        let start = out.writerIndex
        out.writeString(header)
        NDJSONLine.appendSingleLine(event.body, to: &out)
        let written = out.writerIndex - start
        if maxMessageBytes > 0, written > maxMessageBytes {
            out.moveWriterIndex(to: start + Self.utf8Boundary(out, start: start, limit: maxMessageBytes))
            return true
        }
        return false
    }

    /// The largest length ≤ `limit` that does not cut a UTF-8 sequence in half.
    static func utf8Boundary(_ buffer: ByteBuffer, start: Int, limit: Int) -> Int {
        var length = limit
        while length > 0, let byte = buffer.getInteger(at: start + length, as: UInt8.self), byte & 0xC0 == 0x80 {
            length -= 1
        }
        return length
    }

    /// A header field: printable US-ASCII (33–126) only, at most `maxLength` characters, `-` when
    /// empty. Other characters become `_`.
    static func headerField(_ text: String, maxLength: Int) -> String {
        if text.isEmpty { return "-" }
        var field = ""
        for scalar in text.unicodeScalars.prefix(maxLength) {
            field.unicodeScalars.append((33...126).contains(scalar.value) ? scalar : "_")
        }
        return field
    }

    /// PARAM-VALUE escaping: exactly `"`, `\` and `]` get a backslash (RFC 5424 §6.3.3).
    static func escapeParamValue(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\"" || character == "\\" || character == "]" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// SD-ID / PARAM-NAME: 1–32 printable US-ASCII except `=`, space, `]`, `"`.
    static func isValidSDName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32
            && name.utf8.allSatisfy { (33...126).contains($0) && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "\"") }
    }
}
