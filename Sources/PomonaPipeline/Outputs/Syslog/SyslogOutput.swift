import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// RFC 5424 syslog over one persistent connection: TCP or TLS with RFC 6587 octet counting
/// (`MSG-LEN SP SYSLOG-MSG`), or UDP with one message per datagram.
///
/// A send writes every message of the batch and succeeds once the bytes are handed to the kernel;
/// a failed connect or write closes the connection and classifies the whole batch for retry, and
/// the next send reconnects. What this cannot know, because plain syslog has no application
/// acknowledgement (spec §5.3):
/// - after a write error, which messages the receiver already read: the retried batch can repeat
///   some of them (duplicates on reconnect — the structured-data `id` lets the SIEM dedup);
/// - after a reset the kernel noticed only after accepting our bytes: those messages can vanish
///   without an error. Use RELP or an HTTP output where that matters.
/// UDP gives no feedback at all; messages longer than `max_message_bytes` are cut and counted.
public actor SyslogOutput: EventOutput {
    public nonisolated let name: String
    public nonisolated let batchLimits: OutputBatchLimits
    let configuration: SyslogOutputConfiguration
    let formatter: SyslogMessageFormatter
    let sslContext: NIOSSLContext?
    let serverHostname: String?
    let eventLoopGroup: any EventLoopGroup
    let timeout: TimeAmount
    let logger: Logger
    private var channel: (any Channel)?
    private var udpRemote: SocketAddress?
    /// Connections opened so far (1 + reconnects), for tests and logs.
    public private(set) var connectionsOpened = 0

    init(_ configuration: SyslogOutputConfiguration, tls: TLSConfiguration?, eventLoopGroup: any EventLoopGroup, logger: Logger)
        throws(OutputConfigurationError)
    {
        name = configuration.common.name
        batchLimits = configuration.common.batchLimits
        self.configuration = configuration
        formatter = SyslogMessageFormatter(
            facility: configuration.facility, severity: configuration.severity, appName: configuration.appName,
            structuredDataID: configuration.structuredDataID, maxMessageBytes: configuration.maxMessageBytes)
        if let tls {
            do { sslContext = try NIOSSLContext(configuration: tls) } catch {
                throw OutputConfigurationError(output: configuration.common.name, key: "tls", "cannot build a TLS context: \(error)")
            }
        } else {
            sslContext = nil
        }
        let name = configuration.tls.serverName ?? configuration.host
        // An IP literal is not sent as SNI; NIOSSL then checks the certificate against the peer's IP.
        serverHostname = (try? SocketAddress(ipAddress: name, port: 0)) == nil ? name : nil
        self.eventLoopGroup = eventLoopGroup
        timeout = .milliseconds(Int64(configuration.common.timeoutSeconds * 1000))
        self.logger = logger
    }

    public func send(_ events: [PipelineEvent]) async -> OutputSendResult {
        if events.isEmpty { return .delivered }
        var truncated = 0
        do {
            if configuration.transport == .udp {
                truncated = try await sendDatagrams(events)
            } else {
                var frames = ByteBufferAllocator().buffer(capacity: events.reduce(0) { $0 + $1.body.readableBytes + 200 })
                var message = ByteBufferAllocator().buffer(capacity: 4096)
                for event in events {
                    message.clear()
                    if formatter.append(event, to: &message) { truncated += 1 }
                    frames.writeString("\(message.readableBytes) ")
                    frames.writeBuffer(&message)
                }
                try await write(frames)
            }
        } catch {
            let reason = "syslog \(configuration.transport.rawValue) \(configuration.host):\(configuration.port): \(error)"
            logger.warning("syslog send failed; reconnecting on the next send", metadata: ["output": "\(name)", "error": "\(error)"])
            await closeConnection()
            return .retryAll(events.count, reason: reason)
        }
        return OutputSendResult(truncated: truncated)
    }

    /// Writes one buffer on the stream connection, bounded by the timeout (a receiver that stops
    /// reading would otherwise hold the write forever).
    private func write(_ buffer: ByteBuffer) async throws {
        let channel = try await streamChannel()
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let watchdog = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { watchdog.cancel() }
        channel.writeAndFlush(buffer, promise: promise)
        try await promise.futureResult.get()
    }

    private func streamChannel() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        await closeConnection()
        let sslContext = self.sslContext
        let serverHostname = self.serverHostname
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                guard let sslContext else { return channel.eventLoop.makeSucceededVoidFuture() }
                do {
                    let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        self.channel = channel
        connectionsOpened += 1
        return channel
    }

    /// One datagram per message; returns how many were cut.
    private func sendDatagrams(_ events: [PipelineEvent]) async throws -> Int {
        let remote = try udpRemote ?? SocketAddress.makeAddressResolvingHost(configuration.host, port: configuration.port)
        udpRemote = remote
        let channel: any Channel
        if let existing = self.channel, existing.isActive {
            channel = existing
        } else {
            let local = remote.protocol == .inet6 ? "::" : "0.0.0.0"
            channel = try await DatagramBootstrap(group: eventLoopGroup).bind(host: local, port: 0).get()
            self.channel = channel
            connectionsOpened += 1
        }
        var truncated = 0
        var writes: [EventLoopFuture<Void>] = []
        writes.reserveCapacity(events.count)
        for event in events {
            var message = channel.allocator.buffer(capacity: event.body.readableBytes + 200)
            if formatter.append(event, to: &message) { truncated += 1 }
            writes.append(channel.write(AddressedEnvelope(remoteAddress: remote, data: message)))
        }
        channel.flush()
        try await EventLoopFuture.andAllSucceed(writes, on: channel.eventLoop).get()
        return truncated
    }

    private func closeConnection() async {
        guard let channel else { return }
        self.channel = nil
        try? await channel.close()
    }

    public func shutdown() async {
        await closeConnection()
    }
}
