import CompressNIO
import Foundation
import NIOCore

/// How osqueryd judges a server response, decided from the body alone (spec §2 and §6.6).
///
/// The HTTP status code never matters. An empty body is success with `{}`. Otherwise the body must
/// be exactly one JSON value (no BOM, nothing after it; an embedded NUL ends the text) whose root is
/// an object. What is read next depends on the request:
///
/// * config, distributed read/write, log: `node_invalid` that is JSON `true` (only a boolean counts)
///   means ``nodeInvalid(error:)``; otherwise **any** `error` member, whatever its value (even `null`,
///   `false` or `""`), is a failure; otherwise ``success(_:)`` with the parsed object.
/// * enroll: only `node_key` (or `id` when `node_key` is absent), a non-empty string.
/// * carve start: only `session_id`, a non-empty string.
/// * carve block: content is ignored; it only has to be empty or parse (spec §8.3).
///
/// ```swift
/// let verdict = AgentResponseJudgement.judge(.config, body: Data(#"{"node_invalid":true}"#.utf8))
/// verdict   // .nodeInvalid(error: nil)
/// ```
public enum AgentResponseJudgement: Sendable, Equatable {
    /// A helper request (or carve block) succeeded; the parsed object, `{}` for an empty body.
    case success(JSONObject)
    /// An enroll response carried a usable key.
    case enrolled(nodeKey: String)
    /// A carve start response carried a usable session.
    case carveStarted(sessionID: String)
    /// `node_invalid: true`: the agent drops its key and the request fails. `error` is the
    /// response's `error` member rendered as osqueryd appends it to its message, if present.
    case nodeInvalid(error: String?)
    /// Any other failure.
    case failure(Failure)

    /// Why a response counted as a failure.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Connect, TLS, timeout or HTTP framing failed; there is no body to judge.
        case transport(String)
        /// The body is not exactly one JSON value.
        case unparseable(String)
        /// The body is JSON but its root is not an object (undefined behaviour in osqueryd).
        case rootNotObject
        /// The object has an `error` member (helper requests only).
        case errorMember(JSONValue)
        /// Enroll: neither `node_key` nor `id` is a non-empty string.
        case missingNodeKey
        /// Carve start: `session_id` is not a non-empty string.
        case missingSessionID

        public var description: String {
            switch self {
            case .transport(let message): "transport failure: \(message)"
            case .unparseable(let message): "unparseable response: \(message)"
            case .rootNotObject: "response root is not a JSON object"
            case .errorMember(let value): "Request failed: \(value.compactString())"
            case .missingNodeKey: "enroll response has no usable node_key"
            case .missingSessionID: "carve start response has no usable session_id"
            }
        }
    }

    /// Whether osqueryd would carry on as if the request worked.
    public var isSuccess: Bool {
        switch self {
        case .success, .enrolled, .carveStarted: true
        case .nodeInvalid, .failure: false
        }
    }

    /// The verdict for a request that never got a complete HTTP response.
    public static func transportFailure(_ description: String) -> AgentResponseJudgement {
        .failure(.transport(description))
    }

    /// Judges a complete HTTP response body.
    ///
    /// - Parameters:
    ///   - kind: Which request the body answers.
    ///   - body: The raw response body bytes.
    ///   - headers: Response headers; only `Content-Encoding` is read.
    ///   - acceptGzip: Whether the request offered `Accept-Encoding: gzip` (`--tls_accept_gzip`).
    ///     Only then, and only for exactly `Content-Encoding: gzip`, is the body inflated.
    public static func judge(
        _ kind: AgentRequestKind,
        body: Data,
        headers: [(name: String, value: String)] = [],
        acceptGzip: Bool = false
    ) -> AgentResponseJudgement {
        var bytes = body
        if acceptGzip,
            headers.contains(where: { $0.name.lowercased() == "content-encoding" && $0.value == "gzip" }),
            let inflated = inflateGzip(body), !inflated.isEmpty
        {
            // osqueryd keeps the raw bytes when inflating fails or yields nothing; they then fail the parse.
            bytes = inflated
        }

        let root: JSONObject
        switch parseRoot(bytes) {
        case .success(let object): root = object
        case .failure(let failure):
            // A carve block only needs the body to parse; its root type is never looked at.
            if kind == .carveBlock, failure == .rootNotObject { return .success([:]) }
            return .failure(failure)
        }

        switch kind {
        case .enroll:
            // `id` is only consulted when `node_key` is absent, not when it is unusable.
            let candidate = root.contains("node_key") ? root["node_key"] : root["id"]
            guard let key = candidate?.stringValue, !key.isEmpty else { return .failure(.missingNodeKey) }
            return .enrolled(nodeKey: key)
        case .carveStart:
            guard let session = root["session_id"]?.stringValue, !session.isEmpty else {
                return .failure(.missingSessionID)
            }
            return .carveStarted(sessionID: session)
        case .carveBlock:
            return .success(root)
        case .config, .distributedRead, .distributedWrite, .log:
            if root["node_invalid"] == .bool(true) {
                return .nodeInvalid(error: root["error"].map(renderError))
            }
            if let error = root["error"] { return .failure(.errorMember(error)) }
            return .success(root)
        }
    }

    /// Empty → `{}`; otherwise NUL-truncate, parse strictly and require an object root.
    static func parseRoot(_ bytes: Data) -> Result<JSONObject, Failure> {
        // The emptiness test looks at the whole body; the parser then sees only the text before the
        // first NUL, because osqueryd hands RapidJSON `c_str()`.
        if bytes.isEmpty { return .success([:]) }
        let text = bytes.firstIndex(of: 0).map { bytes[bytes.startIndex..<$0] } ?? bytes[...]
        do {
            let value = try JSONValue.parse(text)
            guard case .object(let object) = value else { return .failure(.rootNotObject) }
            return .success(object)
        } catch {
            return .failure(.unparseable(error.description))
        }
    }

    private static func renderError(_ value: JSONValue) -> String {
        value.stringValue ?? value.compactString()
    }

    /// Inflates a gzip body; `nil` when it is not valid gzip.
    static func inflateGzip(_ data: Data) -> Data? {
        var buffer = ByteBuffer(bytes: data)
        // osqueryd caps the *compressed* body at 8 MiB (spec §6.7); 64 MiB inflated bounds a gzip bomb.
        guard let inflated = try? buffer.decompress(with: .gzip(), maxSize: 64 * 1024 * 1024) else { return nil }
        return Data(inflated.readableBytesView)
    }
}
