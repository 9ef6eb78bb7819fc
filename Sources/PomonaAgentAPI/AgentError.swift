import PomonaCore

/// A failure answered to osqueryd.
///
/// osquery ignores HTTP status codes and judges only the body (protocol spec §6.6): an empty body
/// or one without `error`/`node_invalid` counts as success and makes the agent delete its logs or
/// apply an empty config. So every failure carries `{"error": …}`, and an unknown node key carries
/// `{"node_invalid": true}` too so the agent re-enrolls. The status code is for people and proxies.
public struct AgentError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case nodeInvalid = "node_invalid"
        case enrollFailed = "enroll_failed"
        case badRequest = "bad_request"
        case tooLarge = "too_large"
        case unavailable = "unavailable"
        /// Refused for load (a shared budget spent, a rate limit): expected under attack, so not
        /// an error in the log. osquery keeps what it sent and tries again later.
        case busy = "busy"
        case internalError = "internal"
    }

    public let code: Code
    public let message: String

    public static func nodeInvalid(_ message: String = "invalid node key") -> AgentError { .init(code: .nodeInvalid, message: message) }
    public static func enrollFailed(_ message: String) -> AgentError { .init(code: .enrollFailed, message: message) }
    public static func badRequest(_ message: String) -> AgentError { .init(code: .badRequest, message: message) }
    public static func tooLarge(_ message: String) -> AgentError { .init(code: .tooLarge, message: message) }
    public static func unavailable(_ message: String) -> AgentError { .init(code: .unavailable, message: message) }
    public static func busy(_ message: String) -> AgentError { .init(code: .busy, message: message) }
    public static func internalError(_ message: String) -> AgentError { .init(code: .internalError, message: message) }

    public var description: String { message }

    /// HTTP status, for humans and proxies (osquery ignores it).
    public var httpStatus: Int {
        switch code {
        case .nodeInvalid, .enrollFailed: return 401
        case .badRequest: return 400
        case .tooLarge: return 413
        case .unavailable, .busy: return 503
        case .internalError: return 500
        }
    }

    /// The response body osquery understands.
    public var body: [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: Array("{\"error\":".utf8))
        JSONValue.encodeString(message, into: &out)
        if code == .nodeInvalid || code == .enrollFailed {
            out.append(contentsOf: Array(",\"node_invalid\":true".utf8))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
