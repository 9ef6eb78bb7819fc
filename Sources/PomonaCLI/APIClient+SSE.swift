/// One Server-Sent Event: `event:` name (default "message"), `data:` lines joined by "\n", `id:`.
struct ServerSentEvent: Sendable, Equatable {
    var event: String
    var data: String
    var id: String?
}

/// Incremental parser of a `text/event-stream` body (WHATWG HTML §9.2): feed bytes as they arrive,
/// take the events completed so far. Comment lines (`: keep-alive`) are skipped; CR, LF and CRLF
/// all end a line; a blank line dispatches the event.
struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var event = ""
    private var data: [String] = []
    private var hasData = false
    private var id: String?

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 0x0A, lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let event = endLine() { events.append(event) }
            } else {
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer {
                event = ""
                data = []
                hasData = false
            }
            guard hasData else { return nil }
            return ServerSentEvent(event: event.isEmpty ? "message" : event, data: data.joined(separator: "\n"), id: id)
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: line, as: UTF8.self)
        var field = text
        var value = ""
        if let colon = text.firstIndex(of: ":") {
            field = String(text[..<colon])
            value = String(text[text.index(after: colon)...])
            if value.hasPrefix(" ") { value.removeFirst() }
        }
        switch field {
        case "event": event = value
        case "data":
            data.append(value)
            hasData = true
        case "id": id = value
        default: break  // "retry" and unknown fields: nothing to do for a CLI
        }
        return nil
    }
}
