import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PomonaServer
import Testing

/// Completes a promise when the TLS handshake finishes or fails.
final class HandshakeObserver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}

@Suite("TLS handshake over loopback")
struct TLSHandshakeTests {
    /// Starts a TLS server from `files` on 127.0.0.1 and connects a client that trusts only `ca.pem`,
    /// verifying the server as `hostname`. Returns whether the handshake succeeded.
    func handshake(files: TLSFiles, hostname: String?, clientMinimum: TLSVersion = .tlsv12, clientMaximum: TLSVersion? = nil)
        async throws -> Bool
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

        let serverContext = try NIOSSLContext(configuration: try files.makeServerConfiguration())
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()

        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.trustRoots = .file(files.caCertificatePath!.path)
        clientConfiguration.minimumTLSVersion = clientMinimum
        clientConfiguration.maximumTLSVersion = clientMaximum
        let clientContext = try NIOSSLContext(configuration: clientConfiguration)
        let promise = group.next().makePromise(of: Void.self)
        let client = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: clientContext, serverHostname: hostname)
                    )
                    try channel.pipeline.syncOperations.addHandler(HandshakeObserver(promise: promise))
                }
            }
            .connect(to: server.localAddress!).get()
        let succeeded: Bool
        do {
            try await promise.futureResult.get()
            succeeded = true
        } catch {
            succeeded = false
        }
        try? await client.close().get()
        try? await server.close().get()
        try await group.shutdownGracefully()
        return succeeded
    }

    @Test func acceptsLocalhostAndLoopbackIP() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let files = try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        #expect(try await handshake(files: files, hostname: "localhost"))
        // No SNI name: NIOSSL then verifies the connected IP (127.0.0.1) against the IP SANs.
        #expect(try await handshake(files: files, hostname: nil))
    }

    // Name mismatches ("example.com") are covered by CertificateAuthorityTests with X509.Verifier:
    // NIOSSL's client also accepts a certificate whose IP SAN matches the connected address
    // (127.0.0.1 here) whatever the requested host name, unlike osquery's OpenSSL check.
    @Test func rejectsAServerFromAnotherCA() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let files = try CertificateAuthority.loadOrCreate(directory: temp.url.appendingPathComponent("a"), serverNames: [])
        let other = try CertificateAuthority.loadOrCreate(directory: temp.url.appendingPathComponent("b"), serverNames: [])
        var mixed = files
        mixed.caCertificatePath = other.caCertificatePath
        #expect(try await !handshake(files: mixed, hostname: "localhost"))
    }

    @Test func speaksTLS12AndRefusesTLS11() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let files = try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        #expect(try await handshake(files: files, hostname: "localhost", clientMinimum: .tlsv12, clientMaximum: .tlsv12))
        #expect(try await handshake(files: files, hostname: "localhost", clientMinimum: .tlsv13))
        #expect(try await !handshake(files: files, hostname: "localhost", clientMinimum: .tlsv1, clientMaximum: .tlsv11))
    }

    @Test func mutualTLSRequiresAClientCertificate() async throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let files = try CertificateAuthority.loadOrCreate(directory: temp.url, serverNames: [])
        let configuration = try files.makeServerConfiguration(clientCertificateAuthorityPath: files.caCertificatePath)
        #expect(configuration.certificateVerification == .noHostnameVerification)
        #expect(configuration.minimumTLSVersion == .tlsv12)

        let missing = temp.url.appendingPathComponent("absent-ca.pem")
        let error = #expect(throws: TLSMaterialError.self) {
            try files.makeServerConfiguration(clientCertificateAuthorityPath: missing)
        }
        #expect(error?.path == missing.path)
    }
}
