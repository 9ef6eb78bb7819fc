import NIOCore
import PomonaCore

/// What an HEC answer means for the events of one request, from the reply code table of spec §5.1.
///
/// The decision is by HEC `code` when the body carries one (the HTTP status alone conflates "bad
/// token" and "bad event", both 400/401/403), else by HTTP status.
enum HECReply: Equatable {
    case delivered
    /// Transient (codes 8, 9, 18–20, 23, 26, 27; 408/429/5xx): send everything again later.
    case retry(String)
    /// Token or channel wrong (codes 1–4, 10, 11, 14, 16, 21, 22; 401/403/404): nothing will pass
    /// until an operator acts. Keep spooling, alert.
    case configuration(String)
    /// The event at `index` is refused for good (codes 6, 7, 12, 13, 15 with
    /// `invalid-event-number`). Splunk indexed the events before it and none after it.
    case rejectEvent(index: Int, reason: String)
    /// The whole request is refused for good and the reply does not say which event is bad.
    case rejectAll(String)
    /// HTTP 413: split the request.
    case tooLarge(String)

    static let retryableCodes: Set<Int> = [8, 9, 18, 19, 20, 23, 26, 27]
    static let configurationCodes: Set<Int> = [1, 2, 3, 4, 10, 11, 14, 16, 21, 22]
    /// Codes about one event's content: with `invalid-event-number` only that event is refused.
    static let eventCodes: Set<Int> = [6, 7, 12, 13, 15]

    static func classify(status: Int, body: ByteBuffer, eventCount: Int) -> HECReply {
        let parsed = try? JSONValue.parse(body.readableBytesView)
        let code = parsed?["code"]?.intValue
        let text = parsed?["text"]?.stringValue ?? HTTPOutputTransport.snippet(body)
        let eventNumber = parsed?["invalid-event-number"]?.intValue
        var reason = "HEC \(status)"
        if let code { reason += " code \(code)" }
        if !text.isEmpty { reason += ": \(text)" }
        if let eventNumber { reason += " (invalid-event-number \(eventNumber))" }

        if (200..<300).contains(status) { return .delivered }
        if status == 413 { return .tooLarge(reason) }
        if let code {
            if code == 0 || code == 17 { return .delivered }
            if retryableCodes.contains(code) { return .retry(reason) }
            if configurationCodes.contains(code) { return .configuration(reason) }
            if eventCodes.contains(code) {
                if let eventNumber, (0..<eventCount).contains(eventNumber) {
                    return .rejectEvent(index: eventNumber, reason: reason)
                }
                if eventCount == 1 { return .rejectEvent(index: 0, reason: reason) }
                return .rejectAll(reason)
            }
            if code == 5 { return .rejectAll(reason) }
        }
        switch HTTPStatusClass(status: status) {
        case .delivered: return .delivered
        case .retry: return .retry(reason)
        case .configuration: return .configuration(reason)
        case .tooLarge: return .tooLarge(reason)
        case .rejected: return .rejectAll(reason)
        }
    }
}
