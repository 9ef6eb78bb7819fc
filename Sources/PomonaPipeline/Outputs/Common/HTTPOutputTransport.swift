import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The AsyncHTTPClient side shared by the HTTP outputs (HEC, `_bulk`, webhook): one client per
/// output (each output has its own TLS trust), one POST per call, never throwing.
final class HTTPOutputTransport: Sendable {
    /// What came back from one POST.
    enum Outcome: Sendable {
        case response(status: Int, headers: HTTPHeaders, body: ByteBuffer)
        /// No HTTP answer: connection refused, TLS failure, timeout…
        case failed(String)
    }

    let client: HTTPClient
    let timeout: TimeAmount
    /// Responses larger than this are cut (a bulk response for 10,000 items is a few MB).
    let maxResponseBytes = 32 << 20

    init(tls: OutputTLSConfiguration?, timeoutSeconds: Double, connections: Int, output: String,
         eventLoopGroup: any EventLoopGroup) throws(OutputConfigurationError)
    {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: try tls?.makeClientConfiguration(output: output),
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .milliseconds(Int64(min(timeoutSeconds, 30) * 1000))),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        configuration.connectionPool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        // Fail fast when the receiver is down or its certificate is refused: the delivery loop owns
        // retrying (with backoff and a reason per attempt); the client's own reconnect loop would
        // hold every send for the whole connect timeout and hide the reason.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        timeout = .milliseconds(Int64(timeoutSeconds * 1000))
    }

    func post(_ url: String, headers: HTTPHeaders, body: ByteBuffer) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: timeout)
            var collected = ByteBuffer()
            // Read at most maxResponseBytes; the rest is drained so the connection can be reused.
            for try await var part in response.body {
                let room = maxResponseBytes - collected.readableBytes
                if room > 0 {
                    var slice = part.readSlice(length: min(room, part.readableBytes)) ?? ByteBuffer()
                    collected.writeBuffer(&slice)
                }
            }
            return .response(status: Int(response.status.code), headers: response.headers, body: collected)
        } catch {
            return .failed(Self.describe(error))
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// A short reason for logs and `pipeline stats` ("connection refused", "TLS: certificate verify failed").
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timeout" }
            return "\(error)"
        }
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        if let error = error as? BoringSSLError { return "TLS: \(error)" }
        if let error = error as? IOError { return error.description }
        return String(describing: error)
    }

    /// `Retry-After: <seconds>` (the HTTP-date form is rare from SIEMs and is ignored).
    static func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let value = headers.first(name: "retry-after"), let seconds = Double(value.trimmingCharacters(in: .whitespaces)),
              seconds >= 0
        else { return nil }
        return seconds
    }

    /// The first bytes of a response body, for a reason string.
    static func snippet(_ body: ByteBuffer, limit: Int = 200) -> String {
        let bytes = body.readableBytesView.prefix(limit)
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
    }
}

/// How a plain HTTP status is treated when the body says nothing more specific (Vector's
/// `HttpRetryLogic` plus the configuration class of spec §6.3).
enum HTTPStatusClass: Equatable {
    case delivered
    /// Transient: 408, 429, 5xx except 501.
    case retry
    /// Nothing will pass until an operator acts: 401, 403, 404, 407, 501, 3xx (redirects are not
    /// followed). Kept in the spool and retried, flagged for an alert.
    case configuration
    /// 413: the body is too large; split it.
    case tooLarge
    /// Other 4xx: the receiver refuses these events for good.
    case rejected

    init(status: Int) {
        switch status {
        case 200..<300: self = .delivered
        case 413: self = .tooLarge
        case 408, 429: self = .retry
        case 501: self = .configuration
        case 500..<600: self = .retry
        case 401, 403, 404, 407: self = .configuration
        case 300..<400: self = .configuration
        case 400..<500: self = .rejected
        default: self = .retry
        }
    }
}
