import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import PomonaCore

/// The CLI's client for the Fleet-compatible API on the admin listener: JSON in, JSON out, bearer
/// token, the context's TLS trust, and every failure turned into a ``CLIError`` a person can act on.
final class APIClient: Sendable {
    let address: String
    let token: String?
    let caPath: String?
    let http: HTTPClient

    /// Fleet's API prefix; Pomona serves `/api/v1/fleet` and `/api/latest/fleet`.
    static let prefix = "/api/v1/fleet"

    init(context: CLIContext) throws(CLIError) {
        address = CLIContext.normalizedAddress(context.address)
        token = context.token
        caPath = context.rootca
        guard address.hasPrefix("https://") || address.hasPrefix("http://") else {
            throw CLIError("the address \(address) must start with https://")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if context.tlsSkipVerify == true {
            tls.certificateVerification = .none
        } else if let caPath = context.rootca {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
            } catch {
                throw CLIError("cannot read the CA file \(caPath) (\(error)); pass --ca with the server's tls/ca.pem")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    /// Runs `body` with a client for `context`, shutting it down afterwards whatever happens.
    static func with<T>(_ context: CLIContext, _ body: (APIClient) async throws -> T) async throws -> T {
        let client = try APIClient(context: context)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    // MARK: Requests

    /// A Fleet API call under ``prefix``; see ``send(_:_:query:body:authenticated:timeout:)``.
    func fleet(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, timeout: TimeAmount = .seconds(60)
    ) async throws(CLIError) -> JSONValue {
        try await send(method, Self.prefix + path, query: query, body: body, timeout: timeout)
    }

    /// Sends one request and returns the parsed JSON answer (`null` for an empty body).
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil, authenticated: Bool = true,
        timeout: TimeAmount = .seconds(60)
    ) async throws(CLIError) -> JSONValue {
        let request = try makeRequest(method, path, query: query, body: body, authenticated: authenticated)
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await http.execute(request, timeout: timeout)
            status = Int(response.status.code)
            var buffer = try await response.body.collect(upTo: 256 << 20)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw transportError(error)
        }
        guard (200..<300).contains(status) else {
            throw await httpError(status: status, body: bytes, method: method, path: path)
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .null }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw CLIError("the server's answer to \(method) \(path) is not JSON (\(error))")
        }
    }

    /// Opens a streaming request (Server-Sent Events): the response's body is read by the caller.
    func openStream(_ path: String, query: [(String, String)] = []) async throws(CLIError) -> HTTPClientResponse {
        var request = try makeRequest(.GET, Self.prefix + path, query: query, body: nil, authenticated: true)
        request.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .distantFuture)
        } catch {
            throw transportError(error)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            var buffer = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            throw await httpError(status: Int(response.status.code), body: bytes, method: .GET, path: path)
        }
        return response
    }

    func makeRequest(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: JSONValue?, authenticated: Bool) throws(CLIError)
        -> HTTPClientRequest
    {
        var url = address + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.percentEncoded($0.0))=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "pomona-cli/\(PomonaVersion.current)")
        if authenticated {
            guard let token, !token.isEmpty else {
                throw CLIError("not logged in to \(address); run `pomona login` (or `pomona setup` on a new server)")
            }
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.encoded()))
        }
        return request
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
