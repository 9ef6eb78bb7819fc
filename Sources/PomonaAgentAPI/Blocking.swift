import Dispatch

/// Runs blocking work (a synchronous SQLite call) on a GCD thread and awaits its result.
///
/// Request handlers run on Swift's cooperative pool, which has one thread per core (two here):
/// a handler that blocks in SQLite would stall every other request on that thread. Enrollment and
/// carve writes are rare and may wait on the single writer, so they are moved off the pool.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result { try work() })
        }
    }
}
