/// Tracks whether the parts of the server that must keep moving still do: the store writer,
/// the spool writer and each event loop. A probe is a small piece of work sent through the
/// part (an empty write transaction, a sync round, a task on the loop); the part is healthy while
/// one of its probes completed recently.
///
/// Plain state, no IO, times as monotonic seconds passed in by the caller (tests use made-up
/// times). The health loop starts probes, records their outcome here, and pings the systemd
/// watchdog only while ``verdict(now:)`` is healthy: a part that stopped moving stops the pings,
/// and systemd restarts the service.
public struct HealthMonitor: Sendable {
    /// How long a part may go without a successful probe before it counts as stalled.
    public let stallAfter: Double

    struct Part {
        var lastSuccess: Double
        var probeStartedAt: Double?
        var lastError: String?
    }

    private var parts: [String: Part] = [:]
    /// In the order given at init, for stable messages.
    public let names: [String]

    /// `now` is the start: every part gets one `stallAfter` to complete its first probe.
    public init(parts names: [String], stallAfter: Double, now: Double) {
        self.names = names
        self.stallAfter = stallAfter
        for name in names { parts[name] = Part(lastSuccess: now) }
    }

    /// Records a probe as started; false when the previous one has not finished (a stuck part
    /// gets one outstanding probe, not a pile of them).
    public mutating func beginProbe(_ name: String, now: Double) -> Bool {
        guard var part = parts[name], part.probeStartedAt == nil else { return false }
        part.probeStartedAt = now
        parts[name] = part
        return true
    }

    /// Records the end of the outstanding probe: success when `error` is nil.
    public mutating func finishProbe(_ name: String, error: String?, now: Double) {
        guard var part = parts[name] else { return }
        part.probeStartedAt = nil
        if let error {
            part.lastError = error
        } else {
            part.lastSuccess = max(part.lastSuccess, now)
            part.lastError = nil
        }
        parts[name] = part
    }

    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public var part: String
        public var reason: String
        public var description: String { "\(part): \(reason)" }
    }

    /// The stalled parts (empty: healthy). A part whose last probe failed but that succeeded
    /// within `stallAfter` is not stalled yet: one busy timeout must not restart the server.
    public func stalled(now: Double) -> [Problem] {
        names.compactMap { name in
            guard let part = parts[name] else { return nil }
            let quiet = now - part.lastSuccess
            guard quiet > stallAfter else { return nil }
            let seconds = Int(quiet.rounded())
            if let started = part.probeStartedAt {
                return Problem(part: name, reason: "no progress for \(seconds) s (probe pending for \(Int((now - started).rounded())) s)")
            }
            return Problem(part: name, reason: "no progress for \(seconds) s (\(part.lastError ?? "no probe completed"))")
        }
    }

    /// Whether `name` can take work now: its last probe succeeded and it is not stalled. This is
    /// stricter than ``stalled(now:)``: readiness drops at the first failed probe.
    public func isWorking(_ name: String, now: Double) -> Bool {
        guard let part = parts[name] else { return false }
        return part.lastError == nil && now - part.lastSuccess <= stallAfter
    }

    public func lastError(_ name: String) -> String? { parts[name]?.lastError }
}
