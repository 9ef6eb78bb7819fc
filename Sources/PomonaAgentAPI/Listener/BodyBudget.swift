import NIOCore
import Synchronization

/// A bound, shared by every agent connection, on the bytes held for request bodies that are not
/// authenticated yet.
///
/// Why: a body is buffered whole before the service can read the node key in it, so without a
/// shared bound anyone who can open connections holds the endpoint's limit on each (64 MiB for
/// `/log`: 12 connections took a server from 125 to 610 MB). Bodies up to ``freeBytes`` are not
/// counted: osqueryd's check-ins are a few hundred bytes, and that much per connection is already
/// below a connection's TLS state; what a connection may hold uncounted is bounded by the
/// connection limits instead. A request whose `Authorization: NodeKey` header names an enrolled
/// host (osquery ≥ 5.23) is not counted either: it is authenticated before its body is read.
///
/// Bytes are charged as they arrive (a trickled body holds only what it sent), by the memory the
/// buffer holding them takes (buffers grow by doubling), and released when the request has been
/// answered or the connection is gone.
public final class BodyBudget: Sendable {
    /// Bytes of a body that are never charged.
    public static let freeBytes = 16 << 10

    public let capacity: Int
    private let used = Mutex(0)
    private let refusals = Mutex(RefusalTally())

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Takes `bytes` if they fit in what is left; otherwise takes nothing.
    public func reserve(_ bytes: Int) -> Bool {
        precondition(bytes >= 0)
        return used.withLock { used in
            guard bytes <= capacity - used else { return false }
            used += bytes
            return true
        }
    }

    public func release(_ bytes: Int) {
        used.withLock { used in
            precondition(bytes >= 0 && bytes <= used, "released more than was reserved")
            used -= bytes
        }
    }

    /// Records a body refused for want of room; how many refusals to log now, if any.
    func refused(now: NIODeadline) -> Int? {
        refusals.withLock { $0.refused(now: now) }
    }

    /// Bytes reserved now.
    public var inUse: Int { used.withLock { $0 } }
}

/// What one request has charged to a ``BodyBudget``; plain state owned by one connection.
struct BodyCharge {
    private(set) var charged = 0

    /// Charges the body bytes held beyond ``BodyBudget/freeBytes``, up to `held`.
    /// - Returns: `false` when the budget has no room (nothing more is charged).
    mutating func hold(_ held: Int, in budget: BodyBudget) -> Bool {
        let wanted = max(0, held - BodyBudget.freeBytes)
        guard wanted > charged else { return true }
        guard budget.reserve(wanted - charged) else { return false }
        charged = wanted
        return true
    }

    /// Gives everything back (the request was answered or refused, or the connection ended).
    mutating func release(to budget: BodyBudget) {
        if charged > 0 { budget.release(charged) }
        charged = 0
    }
}
