import Synchronization

/// Keep-alive connections to one server, at most `limit` open at once; callers beyond the limit
/// wait in order. With a limit of 1 this is an osqueryd thread's `thread_local` client: requests
/// of that thread go one after another over the same connection.
final class SocketPool: Sendable {
    /// What ``checkout(maxAge:)`` gives.
    enum Grant: Sendable {
        /// An open connection to use.
        case socket(AgentSocket)
        /// A slot: the caller opens a connection and returns it (or `nil`) with ``checkin(_:)``.
        case connect
        /// The task was cancelled while waiting.
        case cancelled
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Grant, Never>
    }

    private struct State {
        var idle: [AgentSocket] = []
        /// Connections open or being opened, idle ones included.
        var slots = 0
        var waiters: [Waiter] = []
        var nextWaiter = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// An idle connection, a slot to open one, or a wait for either. A connection older than
    /// `maxAge` (`--tls_session_timeout`) or no longer open is closed and its slot given instead.
    func checkout(maxAge: Duration) async -> Grant {
        let (immediate, waiterID): (Grant?, Int) = state.withLock { state in
            if let socket = state.idle.popLast() {
                if socket.isOpen && ContinuousClock.now - socket.openedAt < maxAge { return (.socket(socket), 0) }
                socket.close()
                return (.connect, 0)  // the stale connection's slot
            }
            if state.slots < limit {
                state.slots += 1
                return (.connect, 0)
            }
            state.nextWaiter += 1
            return (nil, state.nextWaiter)
        }
        if let immediate { return immediate }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters.append(Waiter(id: waiterID, continuation: continuation))
                    return false
                }
                if cancelled { continuation.resume(returning: .cancelled) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == waiterID }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: .cancelled)
        }
    }

    /// Returns a connection for reuse, or `nil` when the slot's connection failed or was closed.
    func checkin(_ socket: AgentSocket?) {
        let handOver: (Waiter, Grant)? = state.withLock { state in
            guard let socket, socket.isOpen else { return Self.release(&state) }
            if state.waiters.isEmpty {
                state.idle.append(socket)
                return nil
            }
            return (state.waiters.removeFirst(), .socket(socket))
        }
        if let (waiter, grant) = handOver { waiter.continuation.resume(returning: grant) }
    }

    /// A freed slot goes to the first waiter, or back to the pool.
    private static func release(_ state: inout State) -> (Waiter, Grant)? {
        if state.waiters.isEmpty {
            state.slots -= 1
            return nil
        }
        return (state.waiters.removeFirst(), .connect)
    }

    /// Closes the idle connections.
    func closeAll() {
        let idle = state.withLock { state in
            let idle = state.idle
            state.slots -= idle.count
            state.idle = []
            return idle
        }
        for socket in idle { socket.close() }
    }
}
