import Synchronization

/// How many bytes all agent bodies being inflated may hold at once, across every request.
///
/// Why: the per-request cap (``AgentBodyLimits/inflatedLog``) bounds one body, not many. A 1 MB
/// gzip bomb inflates to 256 MiB, so a few connections sending bombs at once would take GBs.
/// Inflation takes its memory from this budget as it grows its buffer; when the budget is spent
/// the request is refused with an error body (osquery keeps the batch and resends it later) and
/// what it took is given back. The bytes stay charged until the request is answered, because the
/// inflated body lives until then (the spool copies it when it makes the batch durable).
///
/// A plain value: the shared, locked one is ``SharedInflationBudget``.
public struct InflationBudget: Sendable, Equatable {
    /// Bytes that may be reserved at once.
    public let limit: Int
    /// Bytes reserved now.
    public private(set) var reserved = 0

    public init(limit: Int) {
        precondition(limit >= 0, "an inflation budget cannot be negative")
        self.limit = limit
    }

    /// Takes `bytes` if they fit, else takes nothing and returns `false`.
    public mutating func reserve(_ bytes: Int) -> Bool {
        precondition(bytes >= 0, "cannot reserve a negative byte count")
        guard bytes <= limit - reserved else { return false }
        reserved += bytes
        return true
    }

    /// Gives back bytes taken with ``reserve(_:)``.
    public mutating func release(_ bytes: Int) {
        precondition(bytes >= 0 && bytes <= reserved, "released \(bytes) bytes of \(reserved) reserved")
        reserved -= bytes
    }
}

/// An ``InflationBudget`` shared by every request, and what it has refused (for metrics and tests).
public final class SharedInflationBudget: Sendable {
    private let state: Mutex<InflationBudget>
    private let refusals = Atomic<Int>(0)

    public init(limit: Int) {
        state = Mutex(InflationBudget(limit: limit))
    }

    public var limit: Int { state.withLock { $0.limit } }
    public var reserved: Int { state.withLock { $0.reserved } }
    /// Reservations refused because the budget was spent.
    public var refusedCount: Int { refusals.load(ordering: .relaxed) }

    public func reserve(_ bytes: Int) -> Bool {
        let granted = state.withLock { $0.reserve(bytes) }
        if !granted { refusals.add(1, ordering: .relaxed) }
        return granted
    }

    public func release(_ bytes: Int) {
        state.withLock { $0.release(bytes) }
    }
}
