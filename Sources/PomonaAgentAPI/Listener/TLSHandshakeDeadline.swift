import HummingbirdCore
import Logging
import NIOCore
import NIOTLS

/// Closes a connection whose TLS handshake is not done within a deadline; goes right behind the
/// TLS handler, and removes itself once the handshake completed.
///
/// Why: NIOSSL waits for a ClientHello as long as the connection lives, and the idle timeout
/// counts only decrypted bytes, so a client that connects and sends nothing (or half a
/// ClientHello) held a connection for the idle timeout (5 minutes on the agent listener, for
/// ever on the admin listener). A real handshake takes a few round trips.
public final class TLSHandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    public init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        // From when the connection was accepted (its handlers are added then).
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            timer?.cancel()
            timer = nil
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// A child channel whose setup adds a ``TLSHandshakeDeadlineHandler`` before the base's
/// handlers; wrap it in `.tls(…)` so that it lands right behind the TLS handler.
public struct TLSHandshakeDeadlineChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    public let base: Base
    public let timeout: TimeAmount

    public init(base: Base, timeout: TimeAmount) {
        self.base = base
        self.timeout = timeout
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(TLSHandshakeDeadlineHandler(timeout: timeout))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server (with `configuration`) whose connections must complete their
    /// TLS handshake within `handshakeTimeout` (wrap it in `.tls(…)`).
    public static func http1(configuration: HTTP1Channel.Configuration, handshakeTimeout: TimeAmount) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            TLSHandshakeDeadlineChannel(base: HTTP1Channel(responder: responder, configuration: configuration), timeout: handshakeTimeout)
        }
    }
}
