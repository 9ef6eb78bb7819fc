import NIOCore

/// Decides when to log refusals that come in floods (connections over the per-address limit,
/// bodies over the budget): the first at once, then at most one line a minute with the count,
/// so an attack cannot drown real events in the journal.
struct RefusalTally: Sendable {
    static let window = TimeAmount.minutes(1)

    private var windowStart: NIODeadline?
    private var unreported = 0

    /// Records one refusal at `now`; returns how many to report in a log line now, or `nil` to stay quiet.
    mutating func refused(now: NIODeadline) -> Int? {
        unreported += 1
        if let start = windowStart, now - start < Self.window { return nil }
        windowStart = now
        defer { unreported = 0 }
        return unreported
    }
}
