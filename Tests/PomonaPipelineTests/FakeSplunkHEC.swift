import NIOCore
import NIOHTTP1
import NIOSSL
import PomonaCore
import Synchronization

/// A fake Splunk HTTP Event Collector, faithful to the wire format and answers of spec §5.1:
/// `/services/collector[/event[/1.0]]`, `Authorization: Splunk <token>`, concatenated event
/// objects, the reply code table (2/3/4 auth, 1 disabled, 5 no data, 6 invalid format, 7 incorrect
/// index, 12/13 event missing/blank, 15 nested fields, 9 busy), and partial acceptance: a bad
/// object N is reported as `invalid-event-number` N after objects 0..<N were indexed. Also
/// `GET /services/collector/health` (17 healthy / 18 queues full while busy answers are scripted).
final class FakeSplunkHEC: Sendable {
    /// One indexed event: the whole envelope, and the `event` value's bytes exactly as received.
    struct Indexed: Sendable {
        var envelope: JSONValue
        var rawEvent: String
    }

    /// A scripted answer, used for the next request(s) before normal processing.
    enum Scripted: Sendable {
        /// 503 `{"text":"Server is busy","code":9}`
        case busy
        /// Any status/code/text, optionally with `invalid-event-number` (partial indexing not applied).
        case reply(status: Int, code: Int?, text: String)
        /// Close the connection without an answer.
        case drop
        /// Answer after this delay (for client timeouts).
        case slow(TimeAmount)
    }

    struct State {
        var indexed: [Indexed] = []
        var script: [Scripted] = []
        var tokenDisabled = false
        /// When set, events naming another index get code 7.
        var allowedIndexes: Set<String>?
        /// Content longer than this gets 413.
        var maxContentLength = 8 << 20
    }

    let token: String
    let state = Mutex(State())
    let server: FakeHTTPServer

    var url: String { server.url }
    var indexed: [Indexed] { state.withLock { $0.indexed } }
    var requests: [FakeHTTPRequest] { server.requests }

    private init(token: String, server: FakeHTTPServer) {
        self.token = token
        self.server = server
    }

    static func start(token: String = "11111111-2222-3333-4444-555555555555", tls: Bool = false) async throws -> FakeSplunkHEC {
        let box = Mutex<FakeSplunkHEC?>(nil)
        let server = try await FakeHTTPServer.start(tls: tls ? FakeHTTPServer.tlsContext() : nil) { request in
            box.withLock { $0 }!.handle(request)
        }
        let fake = FakeSplunkHEC(token: token, server: server)
        box.withLock { $0 = fake }
        return fake
    }

    func script(_ answers: Scripted...) { state.withLock { $0.script.append(contentsOf: answers) } }

    func stop() async { await server.stop() }

    static func reply(_ status: Int, _ code: Int, _ text: String, eventNumber: Int? = nil) -> FakeHTTPResponse {
        var body = "{\"text\":\"\(text)\",\"code\":\(code)"
        if let eventNumber { body += ",\"invalid-event-number\":\(eventNumber)" }
        return .json(status, body + "}")
    }

    func handle(_ request: FakeHTTPRequest) -> FakeHTTPResponse {
        if request.path == "/services/collector/health" || request.path == "/services/collector/health/1.0" {
            // The health answer reflects scripted busy periods the way Splunk's queues would.
            let busy = state.withLock { state in state.script.contains { if case .busy = $0 { true } else { false } } }
            return busy ? Self.reply(503, 18, "HEC is unhealthy, queues are full") : Self.reply(200, 17, "HEC is healthy")
        }
        let paths = ["/services/collector", "/services/collector/event", "/services/collector/event/1.0"]
        guard paths.contains(request.path) else { return .json(404, "{\"text\":\"The requested URL was not found on this server.\",\"code\":404}") }
        guard request.method == .POST else { return .json(405, "{\"text\":\"Method not allowed\"}") }
        return state.withLock { state -> FakeHTTPResponse in
            if !state.script.isEmpty {
                switch state.script.removeFirst() {
                case .busy: return Self.reply(503, 9, "Server is busy")
                case .reply(let status, let code, let text):
                    return code.map { Self.reply(status, $0, text) } ?? .json(status, "{\"text\":\"\(text)\"}")
                case .drop: return FakeHTTPResponse(status: 200, body: "", dropConnection: true)
                case .slow(let delay):
                    var response = Self.reply(200, 0, "Success")
                    response.delay = delay
                    return response
                }
            }
            guard let authorization = request.headers.first(name: "authorization") else { return Self.reply(401, 2, "Token is required") }
            guard authorization.hasPrefix("Splunk ") else { return Self.reply(401, 3, "Invalid authorization") }
            guard authorization.dropFirst("Splunk ".count) == token else { return Self.reply(403, 4, "Invalid token") }
            if state.tokenDisabled { return Self.reply(403, 1, "Token disabled") }
            if request.wireBytes > state.maxContentLength {
                return .json(413, "{\"text\":\"Content-Length of \(request.wireBytes) too large (maximum is \(state.maxContentLength))\"}")
            }
            if request.body.readableBytes == 0 { return Self.reply(400, 5, "No data") }
            return Self.index(request.body, into: &state)
        }
    }

    /// Parses concatenated objects, indexing each until the first bad one.
    private static func index(_ body: ByteBuffer, into state: inout State) -> FakeHTTPResponse {
        let bytes = Array(body.readableBytesView)
        return bytes.withUnsafeBufferPointer { pointer -> FakeHTTPResponse in
            var scanner = JSONScanner(pointer)
            var number = 0
            while scanner.peek() != nil {
                var rawEvent: Range<Int>?
                let start = scanner.position
                do {
                    guard scanner.peek() == UInt8(ascii: "{") else { return reply(400, 6, "Invalid data format", eventNumber: number) }
                    try scanner.forEachMember { (s: inout JSONScanner, key: String) throws(JSONScanError) in
                        let range = try s.skipValue()
                        if key == "event" { rawEvent = range }
                    }
                } catch {
                    return reply(400, 6, "Invalid data format", eventNumber: number)
                }
                let envelope = (try? JSONValue.parse(pointer[start..<scanner.position]))!
                guard let rawEvent else { return reply(400, 12, "Event field is required", eventNumber: number) }
                switch envelope["event"] {
                case .null?, .string("")?: return reply(400, 13, "Event field cannot be blank", eventNumber: number)
                default: break
                }
                if let allowed = state.allowedIndexes, let index = envelope["index"]?.stringValue, !allowed.contains(index) {
                    return reply(400, 7, "Incorrect index", eventNumber: number)
                }
                if let fields = envelope["fields"]?.objectMembers, fields.contains(where: {
                    if case .object = $0.1 { true } else { false }
                }) {
                    return reply(400, 15, "Error in handling indexed fields", eventNumber: number)
                }
                state.indexed.append(Indexed(envelope: envelope, rawEvent: String(decoding: pointer[rawEvent], as: UTF8.self)))
                number += 1
            }
            return reply(200, 0, "Success")
        }
    }
}
