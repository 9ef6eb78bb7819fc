import Foundation

/// Failed enrolls per source address: a token bucket each, and the log lines that sum them up.
///
/// Why: enroll is the one endpoint anyone can call, and each wrong-secret attempt used to cost a
/// warning line: 27,000 attempts a second wrote 302,216 lines in 12 s, drowning real events in
/// journald. Now each failure takes a token from its address's bucket (``Settings/perMinute``
/// tokens, refilled at that rate); an address with none left gets osquery's enroll failure body
/// before anything is parsed or looked up, and osquery backs off and retries, so a host that was
/// only misconfigured enrolls once it is fixed and its bucket refilled. Successful enrolls take
/// nothing. Because the limit applies to every enroll from an address that keeps failing, a
/// secret cannot be guessed faster than the limit either.
///
/// The log: the first failure from a quiet address is logged at once (someone should see a
/// misconfigured host); after that an address gets at most one line a minute,
/// "N failed enrolls from A in the last minute". IPv6 addresses count per /64, the block one
/// subscriber usually holds, so an attacker cannot get a fresh bucket per address. At most
/// ``Settings/maxSources`` addresses are tracked; beyond that failures are still refused as
/// failures but summed up in one line.
///
/// A plain value with the time passed in; ``AgentService`` keeps it behind a lock.
public struct FailedEnrollLimiter: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Failed enrolls an address may make per minute (and in one burst).
        public var perMinute: Int
        /// Addresses tracked at once.
        public var maxSources: Int
        /// How often sums are written for an address that keeps failing.
        public var reportInterval: TimeInterval

        public init(perMinute: Int = 30, maxSources: Int = 100_000, reportInterval: TimeInterval = 60) {
            precondition(perMinute > 0 && maxSources > 0 && reportInterval > 0)
            self.perMinute = perMinute
            self.maxSources = maxSources
            self.reportInterval = reportInterval
        }
    }

    /// Something to write to the log.
    public enum Report: Equatable, Sendable {
        /// The first failure from an address that was quiet: written at once.
        case first(source: String, reason: String)
        /// An address's failures since its last line (`refused` of them by the limit).
        case summary(source: String, failures: Int, refused: Int, lastReason: String, seconds: Int)
        /// Failures from addresses beyond ``Settings/maxSources``.
        case untracked(failures: Int, seconds: Int)

        /// The log message; every value from outside is escaped (``LogText``) by the caller.
        public var message: String {
            switch self {
            case .first: return "enroll refused"
            case .summary(let source, let failures, _, _, let seconds):
                return "\(failures) failed enroll\(failures == 1 ? "" : "s") from \(source) in the last \(Self.span(seconds))"
            case .untracked(let failures, let seconds):
                return "\(failures) failed enroll\(failures == 1 ? "" : "s") from untracked addresses in the last \(Self.span(seconds))"
            }
        }

        /// Sums are written within seconds of a span's end (the server asks every few seconds).
        static func span(_ seconds: Int) -> String { seconds < 90 ? "minute" : "\((seconds + 30) / 60) minutes" }
    }

    struct Source: Sendable, Equatable {
        var tokens: Double
        var updatedAt: Date
        /// Start of the span whose failures are being summed; `nil` while the address is quiet.
        var windowStart: Date?
        var failures = 0
        var refused = 0
        var lastReason = ""
    }

    public let settings: Settings
    private(set) var sources: [String: Source] = [:]
    private var untracked = 0
    private var untrackedSince: Date?
    private var nextReportAt: Date?

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Whether an enroll from `address` may be looked at now. A refused one counts as a failure
    /// in the address's next line (it takes no token: there are none).
    public mutating func admit(_ address: String, now: Date) -> Bool {
        let key = Self.sourceKey(address)
        guard var source = sources[key] else { return true }
        refill(&source, now: now)
        defer { sources[key] = source }
        if source.tokens >= 1 { return true }
        source.refused += 1
        if source.windowStart == nil { source.windowStart = now }
        return false
    }

    /// Records a failed enroll; returns what to log at once (the first failure of a quiet address).
    public mutating func recordFailure(_ address: String, reason: String, now: Date) -> Report? {
        let key = Self.sourceKey(address)
        var source: Source
        if let known = sources[key] {
            source = known
            refill(&source, now: now)
        } else {
            if sources.count >= settings.maxSources { prune(now: now) }
            guard sources.count < settings.maxSources else {
                untracked += 1
                if untrackedSince == nil { untrackedSince = now }
                return nil
            }
            source = Source(tokens: Double(settings.perMinute), updatedAt: now)
        }
        source.tokens = max(0, source.tokens - 1)
        source.lastReason = reason
        defer { sources[key] = source }
        if source.windowStart == nil {
            // Logged now; the span that follows sums up what comes after it.
            source.windowStart = now
            return .first(source: key, reason: reason)
        }
        source.failures += 1
        return nil
    }

    /// The sums of every address whose span is over, and forgets addresses that went quiet with
    /// a full bucket. Cheap when nothing is due; call it often (each enroll does) and periodically.
    public mutating func report(now: Date) -> [Report] {
        if let next = nextReportAt, now < next { return [] }
        nextReportAt = now.addingTimeInterval(min(10, settings.reportInterval))
        var reports: [Report] = []
        for (key, var source) in sources {
            guard let start = source.windowStart, now.timeIntervalSince(start) >= settings.reportInterval else { continue }
            let total = source.failures + source.refused
            if total > 0 {
                reports.append(
                    .summary(
                        source: key, failures: total, refused: source.refused, lastReason: source.lastReason,
                        seconds: Int(now.timeIntervalSince(start).rounded())))
                // Still failing: keep summing, so the next failure is not logged on its own.
                source.windowStart = now
            } else {
                source.windowStart = nil  // quiet for a whole span: the next failure is logged at once
            }
            source.failures = 0
            source.refused = 0
            sources[key] = source
        }
        if let since = untrackedSince, now.timeIntervalSince(since) >= settings.reportInterval {
            reports.append(.untracked(failures: untracked, seconds: Int(now.timeIntervalSince(since).rounded())))
            untracked = 0
            untrackedSince = nil
        }
        prune(now: now)
        return reports.sorted { $0.message < $1.message }
    }

    private func refill(_ source: inout Source, now: Date) {
        let elapsed = max(0, now.timeIntervalSince(source.updatedAt))
        source.tokens = min(Double(settings.perMinute), source.tokens + elapsed * Double(settings.perMinute) / 60)
        source.updatedAt = now
    }

    /// Drops addresses that are quiet and whose bucket is full again: they are as good as new.
    private mutating func prune(now: Date) {
        sources = sources.filter { _, source in
            var source = source
            refill(&source, now: now)
            return source.windowStart != nil || source.tokens < Double(settings.perMinute)
        }
    }

    /// The address a bucket is kept for: IPv4 as it is, IPv6 by its /64, an IPv4-mapped IPv6
    /// address (`::ffff:192.0.2.1`) by its IPv4 address.
    static func sourceKey(_ address: String) -> String {
        guard address.contains(":") else { return address }
        if address.lowercased().hasPrefix("::ffff:"), address.contains(".") { return String(address.dropFirst(7)) }
        guard let groups = ipv6Groups(address) else { return address }
        return groups[0..<4].map { String($0, radix: 16) }.joined(separator: ":") + "::/64"
    }

    /// The eight 16-bit groups of an IPv6 address in text form (`nil` if it is not one, or
    /// embeds an IPv4 address).
    private static func ipv6Groups(_ text: String) -> [UInt16]? {
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }  // zone index
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func parse(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var groups: [UInt16] = []
            for piece in part.split(separator: ":", omittingEmptySubsequences: false) {
                if piece.contains(".") { return nil }  // embedded IPv4: treated as its own case
                guard let value = UInt16(piece, radix: 16) else { return nil }
                groups.append(value)
            }
            return groups
        }
        guard let head = parse(halves[0]) else { return nil }
        let tail = halves.count == 2 ? parse(halves[1]) : []
        guard let tail else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
