import Synchronization

/// The spool writer's liveness, for the server's health loop (systemd watchdog, `/readyz`).
extension Spool {
    /// Write rounds completed so far (each one write and, per the fsync policy, one sync).
    public var completedRounds: Int { state.withLock { $0.rounds } }

    /// Proves the writer thread still completes rounds: asks for a sync round and returns once
    /// a round finished after the call, or throws after `limit`.
    ///
    /// ``syncNow()`` starts a round when the writer is idle and waits for it; when a round is
    /// already running it returns at once, and the round counter then shows whether that round
    /// (or the next) ever ends. A writer stuck in `pwrite`/`fdatasync` completes none, so the
    /// probe stays pending and the health monitor sees the stall. Polls only in that busy case,
    /// and only every `poll`.
    public func probeWriter(limit: Duration, poll: Duration = .milliseconds(20)) async throws {
        let before = completedRounds
        await syncNow()
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while completedRounds == before {
            if isClosed { throw SpoolError.closed }
            guard clock.now < deadline else { throw SpoolError.io("no write round completed within \(limit)") }
            try await Task.sleep(for: poll)
        }
    }
}
