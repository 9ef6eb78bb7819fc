/// What one request did to the events it carried. Indices are relative to the request's first event.
enum RequestVerdict: Sendable, Equatable {
    /// Every event classified (delivered unless listed as rejected or retry).
    case classified(OutputSendResult)
    /// The receiver refused the body as too large (413) or, for idempotent receivers, as a whole
    /// without saying which event is bad: split it in halves and send each (one event left →
    /// rejected with this reason).
    case split(reason: String)
    /// Events before `from` are classified by the result; the rest were not taken and are sent
    /// again at once (HEC `invalid-event-number`).
    case resend(from: Int, OutputSendResult)
}

extension OutputSendResult {
    /// Adds `other`, whose indices start at `offset` in this result's batch.
    mutating func merge(_ other: OutputSendResult, offset: Int) {
        for (index, reason) in other.rejected { rejected[index + offset] = reason }
        retry.append(contentsOf: other.retry.map { $0 + offset })
        if retryReason == nil { retryReason = other.retryReason }
        if let after = other.retryAfter { retryAfter = max(retryAfter ?? 0, after) }
        configurationProblem = configurationProblem || other.configurationProblem
        duplicates += other.duplicates
        truncated += other.truncated
    }
}

/// Drives one `send` of an HTTP output: cuts the batch into requests of at most `maxRequestBytes`,
/// splits on ``RequestVerdict/split(reason:)``, resends on ``RequestVerdict/resend(from:_:)``, and
/// once the receiver is unavailable (a request came back all-retry) stops sending and marks the
/// rest for retry, so a down receiver costs one timeout per `send`, not one per request.
struct BatchDelivery {
    let maxRequestBytes: Int
    /// Bytes one event adds to a request (envelope included), for cutting.
    let encodedSize: @Sendable (PipelineEvent) -> Int

    func deliver(_ events: [PipelineEvent], request: (ArraySlice<PipelineEvent>) async -> RequestVerdict) async -> OutputSendResult {
        var state = State()
        var start = 0
        while start < events.count {
            var end = start
            var bytes = 0
            while end < events.count {
                let size = encodedSize(events[end])
                if end > start, bytes + size > maxRequestBytes { break }
                bytes += size
                end += 1
            }
            await run(events[start..<end], &state, request)
            start = end
        }
        return state.result
    }

    private struct State {
        var result = OutputSendResult()
        /// Set once a request came back all-retry: the rest is not attempted in this `send`.
        var unavailable: OutputSendResult?
    }

    private func run(_ slice: ArraySlice<PipelineEvent>, _ state: inout State,
                     _ request: (ArraySlice<PipelineEvent>) async -> RequestVerdict) async
    {
        if slice.isEmpty { return }
        let base = slice.startIndex
        if let unavailable = state.unavailable {
            state.result.merge(OutputSendResult(
                retry: Array(0..<slice.count), retryReason: unavailable.retryReason, retryAfter: unavailable.retryAfter,
                configurationProblem: unavailable.configurationProblem), offset: base)
            return
        }
        switch await request(slice) {
        case .classified(let result):
            state.result.merge(result, offset: base)
            if result.retry.count == slice.count { state.unavailable = result }
        case .split(let reason):
            if slice.count == 1 {
                state.result.rejected[base] = reason
            } else {
                let middle = base + slice.count / 2
                await run(slice[base..<middle], &state, request)
                await run(slice[middle..<slice.endIndex], &state, request)
            }
        case .resend(let from, let result):
            state.result.merge(result, offset: base)
            // At least one event is always classified, so the loop ends.
            await run(slice[(base + min(max(from, 1), slice.count))..<slice.endIndex], &state, request)
        }
    }
}
