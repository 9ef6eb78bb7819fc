import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import PomonaCore
import Synchronization

/// A fake Elasticsearch `_bulk` endpoint, faithful to spec §5.2: NDJSON action/source pairs with
/// a final newline, `create` with `_id` (409 `version_conflict_engine_exception` when the id
/// exists), per-item errors in a 200 answer with `errors: true`, whole-request 400/401/413/429/5xx,
/// Basic or ApiKey auth. Per-item failures can be scripted per `_id`.
final class FakeElasticsearch: Sendable {
    struct Document: Sendable {
        var index: String
        var id: String
        var source: String
    }

    enum Scripted: Sendable {
        case status(Int)
        case drop
    }

    struct State {
        var documents: [Document] = []
        var ids: Set<String> = []
        /// Whole-request answers for the next requests.
        var script: [Scripted] = []
        /// Per-`_id` item statuses for the next attempts of that id (e.g. `[429]`: first try 429).
        var itemFailures: [String: [Int]] = [:]
        /// The expected `Authorization` header value, when auth is on.
        var authorization: String?
        var maxContentLength = 100 << 20
    }

    let state = Mutex(State())
    let server: FakeHTTPServer

    var url: String { server.url }
    var documents: [Document] { state.withLock { $0.documents } }
    var requests: [FakeHTTPRequest] { server.requests }

    private init(server: FakeHTTPServer) { self.server = server }

    static func start(tls: Bool = false) async throws -> FakeElasticsearch {
        let box = Mutex<FakeElasticsearch?>(nil)
        let server = try await FakeHTTPServer.start(tls: tls ? FakeHTTPServer.tlsContext() : nil) { request in
            box.withLock { $0 }!.handle(request)
        }
        let fake = FakeElasticsearch(server: server)
        box.withLock { $0 = fake }
        return fake
    }

    func stop() async { await server.stop() }

    static func error(_ status: Int, _ type: String, _ reason: String) -> FakeHTTPResponse {
        .json(status, "{\"error\":{\"root_cause\":[{\"type\":\"\(type)\",\"reason\":\"\(reason)\"}],\"type\":\"\(type)\",\"reason\":\"\(reason)\"},\"status\":\(status)}")
    }

    func handle(_ request: FakeHTTPRequest) -> FakeHTTPResponse {
        guard request.method == .POST, request.path == "/_bulk" || request.path.hasSuffix("/_bulk") else {
            return Self.error(404, "resource_not_found_exception", "no handler for \(request.path)")
        }
        return state.withLock { state -> FakeHTTPResponse in
            if !state.script.isEmpty {
                switch state.script.removeFirst() {
                case .status(let status): return Self.error(status, status == 429 ? "es_rejected_execution_exception" : "scripted", "scripted \(status)")
                case .drop: return FakeHTTPResponse(status: 200, body: "", dropConnection: true)
                }
            }
            if let expected = state.authorization, request.headers.first(name: "authorization") != expected {
                return Self.error(401, "security_exception", "missing authentication credentials for REST request [/_bulk]")
            }
            let contentType = request.headers.first(name: "content-type") ?? ""
            guard contentType.hasPrefix("application/x-ndjson") || contentType.hasPrefix("application/json") else {
                return Self.error(406, "content_type_exception", "Content-Type header [\(contentType)] is not supported")
            }
            if request.wireBytes > state.maxContentLength { return FakeHTTPResponse(status: 413, headers: [], body: "") }
            guard request.body.readableBytesView.last == 0x0A else {
                return Self.error(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\\\n]")
            }
            let lines = request.bodyText.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            guard lines.count % 2 == 0 else { return Self.error(400, "illegal_argument_exception", "Malformed action/metadata line") }
            var items: [String] = []
            var errors = false
            var pending = lines[...]
            while let actionLine = pending.popFirst(), let sourceLine = pending.popFirst() {
                guard let action = try? JSONValue.parse(Array(actionLine.utf8)), let members = action.objectMembers, members.count == 1,
                      members[0].0 == "create", let index = members[0].1["_index"]?.stringValue, let id = members[0].1["_id"]?.stringValue
                else {
                    return Self.error(400, "x_content_parse_exception", "Malformed action/metadata line [\(items.count * 2 + 1)]")
                }
                func item(_ status: Int, _ extra: String) -> String {
                    "{\"create\":{\"_index\":\"\(index)\",\"_id\":\"\(id)\",\"status\":\(status)\(extra)}}"
                }
                if var failures = state.itemFailures[id], !failures.isEmpty {
                    let status = failures.removeFirst()
                    state.itemFailures[id] = failures
                    errors = true
                    let type = status == 429 ? "es_rejected_execution_exception" : "scripted_exception"
                    items.append(item(status, ",\"error\":{\"type\":\"\(type)\",\"reason\":\"scripted \(status)\"}"))
                    continue
                }
                guard (try? JSONValue.parse(Array(sourceLine.utf8)))?.objectMembers != nil else {
                    errors = true
                    items.append(item(400, ",\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse\"}"))
                    continue
                }
                let key = "\(index)/\(id)"
                if state.ids.contains(key) {
                    errors = true
                    items.append(item(409, ",\"error\":{\"type\":\"version_conflict_engine_exception\",\"reason\":\"[\(id)]: version conflict, document already exists\"}"))
                    continue
                }
                state.ids.insert(key)
                state.documents.append(Document(index: index, id: id, source: String(sourceLine)))
                items.append(item(201, ",\"result\":\"created\""))
            }
            return .json(200, "{\"took\":1,\"errors\":\(errors),\"items\":[\(items.joined(separator: ","))]}")
        }
    }
}
