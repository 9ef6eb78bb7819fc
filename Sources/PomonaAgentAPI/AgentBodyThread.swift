import NIOCore
import NIOPosix
import Synchronization

/// The thread where agent bodies too big for an event loop are inflated and read.
///
/// Why a thread of its own: an event loop serves hundreds of connections, and inflating a 256 MiB
/// gzip bomb on one stalled every other agent on it for about a second. Swift's concurrency pool
/// is no place for it either: it has one thread per core (two here), and everything async in the
/// server shares them. One thread, because this machine has two cores and the event loops need
/// the other; big compressed bodies queue behind each other instead of taking both cores, and
/// what they may hold at once is bounded by the ``SharedInflationBudget``.
public final class AgentBodyThread: Sendable {
    private let pool: NIOThreadPool
    public let budget: SharedInflationBudget
    /// Compressed bodies inflated, wherever that happened (a bomb refused by its header key before
    /// inflating does not count).
    private let inflationCount = Atomic<Int>(0)
    /// Bodies handled on this thread rather than on the event loop that read them.
    private let offloadCount = Atomic<Int>(0)

    public init(budget: SharedInflationBudget, threads: Int = 1) {
        self.budget = budget
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    public var inflations: Int { inflationCount.load(ordering: .relaxed) }
    public var offloads: Int { offloadCount.load(ordering: .relaxed) }

    func countInflation() { inflationCount.add(1, ordering: .relaxed) }

    /// Runs `work` on this thread, or `cancelled` if it is shutting down (so a request is always answered).
    func run(_ work: @escaping @Sendable () -> Void, cancelled: @escaping @Sendable () -> Void) {
        offloadCount.add(1, ordering: .relaxed)
        pool.submit { state in
            if case .active = state { work() } else { cancelled() }
        }
    }
}

extension AgentBodyThread {
    /// ``AgentBody/prepare(_:coding:maxInflated:budget:)`` within this thread's budget, counted.
    func prepare(_ body: ByteBuffer, coding: AgentContentCoding, maxInflated: Int) throws(AgentError) -> PreparedAgentBody {
        if coding != .identity { countInflation() }
        return try AgentBody.prepare(body, coding: coding, maxInflated: maxInflated, budget: budget)
    }
}
