import Synchronization

/// At most `limit` holders at once; `acquire` suspends (no polling) until a slot frees.
final class AsyncLimiter: Sendable {
    struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// Commits resolved batches in the order they were cut, whatever order they finish in, so a
/// checkpoint never passes an event that is still being retried (file.d's ordered commit).
final class OrderedCommitter: Sendable {
    struct State {
        var next = 0
        var done: [Int: ResolvedSpan] = [:]
    }

    let state = Mutex(State())
    let commit: @Sendable ([ResolvedSpan]) -> Void

    init(commit: @escaping @Sendable ([ResolvedSpan]) -> Void) {
        self.commit = commit
    }

    /// Records batch `sequence`; commits it and every following batch already done. The commit
    /// runs under this lock so two finishing batches cannot commit out of order.
    func complete(_ sequence: Int, _ span: ResolvedSpan) {
        state.withLock { state in
            state.done[sequence] = span
            var ready: [ResolvedSpan] = []
            while let span = state.done.removeValue(forKey: state.next) {
                ready.append(span)
                state.next += 1
            }
            if !ready.isEmpty { commit(ready) }
        }
    }
}
