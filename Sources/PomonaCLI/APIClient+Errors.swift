import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import PomonaCore

/// A failure the CLI explains to a person: printed as `Error: <message>`, exit status 1.
struct CLIError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String
    /// HTTP status when the server answered with an error.
    var status: Int?

    init(_ message: String, status: Int? = nil) {
        self.message = message
        self.status = status
    }

    var description: String { message }
}

extension APIClient {
    /// Why the request never got an HTTP answer, worded for what to do next.
    func transportError(_ error: any Error) -> CLIError {
        let text = String(reflecting: error)
        if error is NIOSSLError || error is NIOSSLExtraError || text.contains("CERTIFICATE_VERIFY_FAILED")
            || text.contains("certificate verify failed") || text.contains("handshakeFailed")
        {
            let hint =
                caPath == nil
                ? "pass --ca with the CA `pomona serve` generated (<data dir>/tls/ca.pem, e.g. ./pomona-data/tls/ca.pem)"
                : "the CA in \(caPath!) did not sign the server's certificate, or the address's host name is not in it (`pomona serve --server-name`); pass --ca with the server's <data dir>/tls/ca.pem"
            return CLIError("TLS verification of \(address) failed (\(Self.shortDescription(error))): \(hint); --insecure skips verification for testing")
        }
        if let httpError = error as? HTTPClientError {
            if httpError == .deadlineExceeded || httpError == .readTimeout {
                return CLIError("\(address) did not answer in time")
            }
            if httpError == .remoteConnectionClosed && address.hasPrefix("http://") {
                return CLIError("\(address) closed the connection; the admin listener speaks TLS, use https://")
            }
        }
        return CLIError(
            "server unreachable at \(address) (\(Self.shortDescription(error))); is `pomona serve` running? The admin listener is 127.0.0.1:9443 by default; pass --address to use another")
    }

    static func shortDescription(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// An error answer, read as Fleet's envelope `{"message", "errors": [{"name", "reason"}]}`.
    func httpError(status: Int, body: [UInt8], method: HTTPMethod, path: String) async -> CLIError {
        let envelope = try? JSONValue.parse(body)
        let message = envelope?["message"]?.stringValue ?? ""
        let reasons: [String] = (envelope?["errors"]?.arrayValue ?? []).compactMap { item in
            guard let reason = item["reason"]?.stringValue else { return nil }
            let name = item["name"]?.stringValue ?? "base"
            return name == "base" || name.isEmpty ? reason : "\(name): \(reason)"
        }
        let detail = reasons.isEmpty ? message : reasons.joined(separator: "; ")
        let isLogin = path.hasSuffix("/login") || path.hasSuffix("/setup")
        switch status {
        case 401 where !isLogin:
            return CLIError("your session expired or the token was revoked; run `pomona login`", status: status)
        case 401:
            return CLIError("login refused: \(detail.isEmpty ? "wrong email or password" : detail)", status: status)
        case 403:
            let role = await currentRole()
            let who = role.map { "your role (\($0))" } ?? "your role"
            return CLIError("permission denied: \(who) does not allow \(method) \(path)\(detail.isEmpty ? "" : " (\(detail))")", status: status)
        case 404 where envelope == nil:
            return CLIError("the server at \(address) does not offer \(method) \(path) (an older pomona?)", status: status)
        case 404:
            return CLIError("not found: \(detail.isEmpty ? path : detail)", status: status)
        case 409:
            return CLIError("conflict: \(detail)", status: status)
        case 422, 400:
            return CLIError("the server refused the request: \(detail.isEmpty ? "invalid input" : detail)", status: status)
        case 429:
            return CLIError("too many attempts; wait a minute and retry\(detail.isEmpty ? "" : " (\(detail))")", status: status)
        default:
            return CLIError("server error \(status) on \(method) \(path)\(detail.isEmpty ? "" : ": \(detail)")", status: status)
        }
    }

    /// The caller's global role, to say which role a 403 is about (best effort).
    func currentRole() async -> String? {
        guard let request = try? makeRequest(.GET, Self.prefix + "/me", query: [], body: nil, authenticated: true),
            let response = try? await http.execute(request, timeout: .seconds(5)), response.status == .ok,
            var buffer = try? await response.body.collect(upTo: 1 << 20),
            let me = try? JSONValue.parse(buffer.readBytes(length: buffer.readableBytes) ?? [])
        else { return nil }
        return me["user"]?["global_role"]?.stringValue
    }
}
