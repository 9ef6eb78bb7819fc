import NIOCore
import NIOHTTP1

/// Request deadlines on a connection handed to Hummingbird: the same ``RequestDeadlines`` as
/// ``AgentWireHandler`` applies to osqueryd's requests, from HTTP parts (it sits right behind
/// NIO's HTTP/1 decoder).
///
/// Why: Hummingbird has no head or body deadline, and the idle timeout restarts with every
/// byte, so a client could hand its connection over with any non-osquery request and then
/// trickle. A head's deadline starts with the first bytes after the previous answer (the wire
/// handler in front sends ``BytesArrived`` before passing bytes on; the decoder only reports a
/// head once it is whole); a body's with the end of its head: its length at the minimum rate, or
/// for a chunked body the floor plus what arrived so far at that rate.
final class HandedOverDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Sent by ``AgentWireHandler`` before bytes it passes to the HTTP server.
    struct BytesArrived {}

    private var clock: RequestClock
    /// Requests read whole and not answered yet: while there are any, the client is waiting on us.
    private var unanswered = 0
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?

    init(deadlines: RequestDeadlines) {
        clock = RequestClock(deadlines: deadlines)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is BytesArrived else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if unanswered == 0, clock.phase == .idle {
            _ = clock.headPending(now: context.eventLoop.now)
            arm(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let length = head.headers.first(name: "content-length").flatMap(Int.init) {
                _ = clock.bodyPending(length: length, now: context.eventLoop.now)
            } else {
                _ = clock.streamingBodyReceived(0, now: context.eventLoop.now)
            }
        case .body(let bytes):
            if case .streamingBody = clock.phase { _ = clock.streamingBodyReceived(bytes.readableBytes, now: context.eventLoop.now) }
        case .end:
            clock.complete()
            unanswered += 1
        }
        arm(context: context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), unanswered > 0 { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext) {
        let deadline = clock.deadline
        if let timer, timer.deadline == deadline { return }
        timer?.task.cancel()
        timer = nil
        guard let deadline else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            if self.clock.hasExpired(now: context.eventLoop.now) {
                context.close(promise: nil)
            } else {
                self.arm(context: context)
            }
        }
        timer = (deadline, task)
    }
}
