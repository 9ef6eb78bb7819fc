/// How long to wait before resending events an output asked to retry: exponential backoff with
/// full jitter (`random(0, min(max, initial · 2^(attempt-1)))`, AWS's "full jitter"), never less
/// than the receiver's `Retry-After`. Retries forever by default (`maxAttempts` 0), like Vector:
/// a SIEM outage must not turn into data loss; the spool absorbs it until it is full.
public struct RetryPolicy: Sendable, Equatable {
    public var initialBackoff: Double = 1
    public var maxBackoff: Double = 60
    /// 0 = retry forever; otherwise events still failing after this many attempts are
    /// dead-lettered with the last reason.
    public var maxAttempts: Int = 0

    public init(initialBackoff: Double = 1, maxBackoff: Double = 60, maxAttempts: Int = 0) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxAttempts = maxAttempts
    }

    /// The delay before attempt `attempt + 1`, after `attempt` (≥ 1) failed ones.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Double {
        let exponent = min(attempt - 1, 30)
        let ceiling = min(maxBackoff, initialBackoff * Double(1 << exponent))
        var delay = random(0...max(0, ceiling))
        // Honour the receiver's hint, but a hostile or broken header cannot park an output for days.
        if let retryAfter, retryAfter.isFinite, retryAfter > 0 { delay = max(delay, min(retryAfter, max(maxBackoff, 600))) }
        return delay
    }
}
