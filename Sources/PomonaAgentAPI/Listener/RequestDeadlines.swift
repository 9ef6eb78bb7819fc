import NIOCore

/// How long a request may take to arrive, once it has started: a whole head within ``head``
/// (like nginx's `client_header_timeout`), a body within ``bodyFloor`` plus its length at
/// ``bodyBytesPerSecond``.
///
/// Why: the idle timeout alone restarts with every byte, so a client sending one byte every
/// 10 s kept a connection for the 16 KiB head limit's worth of bytes, about 45 hours. The body's
/// allowance grows with its size so that a large log batch over a slow uplink still arrives.
public struct RequestDeadlines: Sendable, Equatable {
    public var head: TimeAmount
    public var bodyFloor: TimeAmount
    public var bodyBytesPerSecond: Int

    public init(head: TimeAmount = .seconds(30), bodyFloor: TimeAmount = .seconds(30), bodyBytesPerSecond: Int = 16 << 10) {
        precondition(bodyBytesPerSecond > 0)
        self.head = head
        self.bodyFloor = bodyFloor
        self.bodyBytesPerSecond = bodyBytesPerSecond
    }

    /// The time a body of `length` bytes is given.
    public func body(length: Int) -> TimeAmount {
        let seconds = Double(length) / Double(bodyBytesPerSecond)
        return bodyFloor + .nanoseconds(Int64(min(seconds, 1e8) * 1e9))
    }
}

/// The deadline of the request a connection is receiving; plain state, the time passed in.
///
/// A request starts with its first byte (time between requests is the idle timeout's), its body
/// phase with the end of its head; once it is complete the connection is back to idle.
struct RequestClock: Equatable {
    enum Phase: Equatable {
        case idle
        case head(deadline: NIODeadline)
        case body(deadline: NIODeadline)
        /// A body of unknown length (chunked) since `start`, `received` bytes so far.
        case streamingBody(start: NIODeadline, received: Int)
    }

    let deadlines: RequestDeadlines
    private(set) var phase = Phase.idle

    init(deadlines: RequestDeadlines) {
        self.deadlines = deadlines
    }

    /// Part of a head is here: the head's deadline, set when the first byte came.
    mutating func headPending(now: NIODeadline) -> NIODeadline {
        switch phase {
        case .head(let deadline): return deadline
        case .idle, .body, .streamingBody:
            let deadline = now + deadlines.head
            phase = .head(deadline: deadline)
            return deadline
        }
    }

    /// The head is complete and `length` body bytes are (still) to come: the body's deadline,
    /// set when the head was complete.
    mutating func bodyPending(length: Int, now: NIODeadline) -> NIODeadline {
        if case .body(let deadline) = phase { return deadline }
        let deadline = now + deadlines.body(length: length)
        phase = .body(deadline: deadline)
        return deadline
    }

    /// `received` more bytes of a body of unknown length (chunked) are here: it is given the
    /// floor from the end of its head, and more time for every byte at the minimum rate, so a
    /// body trickled below the rate runs out of time whatever its length.
    mutating func streamingBodyReceived(_ received: Int, now: NIODeadline) -> NIODeadline {
        switch phase {
        case .streamingBody(let start, let before):
            phase = .streamingBody(start: start, received: before + received)
        case .idle, .head, .body:
            phase = .streamingBody(start: now, received: received)
        }
        return deadline!
    }

    /// The request is complete (or refused and its rest discarded): no deadline until the next.
    mutating func complete() {
        phase = .idle
    }

    var deadline: NIODeadline? {
        switch phase {
        case .idle: nil
        case .head(let deadline), .body(let deadline): deadline
        case .streamingBody(let start, let received): start + deadlines.body(length: received)
        }
    }

    func hasExpired(now: NIODeadline) -> Bool {
        guard let deadline else { return false }
        return now >= deadline
    }
}
