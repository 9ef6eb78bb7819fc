/// Everything `GET /api/v1/pomona/pipeline/stats` and `pomona pipeline stats` show; also the
/// source of the Prometheus metrics. Codable so the CLI decodes exactly what the server encodes.
public struct PipelineStats: Sendable, Codable, Equatable {
    public struct Spool: Sendable, Codable, Equatable {
        public var bytes: Int64
        public var maxBytes: Int64
        public var segments: Int
        public var records: Int
        public var events: Int64
        public var fsync: String
        public var whenFull: String
        /// Appends refused because the spool was full (`block`).
        public var refusedAppends: Int64

        enum CodingKeys: String, CodingKey {
            case bytes, segments, records, events, fsync
            case maxBytes = "max_bytes"
            case whenFull = "when_full"
            case refusedAppends = "refused_appends"
        }
    }

    public struct Counts: Sendable, Codable, Equatable {
        public var received: EventTally
        public var forwarded: EventTally
        public var filtered: EventTally
        public var throttled: EventTally
        public var deadLettered: EventTally
        public var dropped: EventTally
        public var stillSpooled: EventTally

        public init(received: EventTally, outcomes: OutcomeCounters, stillSpooled: EventTally) {
            self.received = received
            forwarded = outcomes.forwarded
            filtered = outcomes.filtered
            throttled = outcomes.throttled
            deadLettered = outcomes.deadLettered
            dropped = outcomes.dropped
            self.stillSpooled = stillSpooled
        }

        /// `received = forwarded + filtered + throttled + dead_lettered + dropped + still_spooled`.
        public var balances: Bool {
            received == forwarded + filtered + throttled + deadLettered + dropped + stillSpooled
        }

        public static func + (lhs: Counts, rhs: Counts) -> Counts {
            var out = lhs
            out.received += rhs.received
            out.forwarded += rhs.forwarded
            out.filtered += rhs.filtered
            out.throttled += rhs.throttled
            out.deadLettered += rhs.deadLettered
            out.dropped += rhs.dropped
            out.stillSpooled += rhs.stillSpooled
            return out
        }

        public static let zero = Counts(received: .zero, outcomes: OutcomeCounters(), stillSpooled: .zero)

        enum CodingKeys: String, CodingKey {
            case received, forwarded, filtered, throttled, dropped
            case deadLettered = "dead_lettered"
            case stillSpooled = "still_spooled"
        }
    }

    public struct Output: Sendable, Codable, Equatable {
        public var name: String
        public var totals: Counts
        public var byInput: [String: Counts]
        public var filteredBy: [String: EventTally]
        public var throttledBy: [String: EventTally]
        public var checkpoint: String
        public var inFlightBatches: Int
        public var retries: Int64
        public var duplicates: Int64
        public var truncated: Int64
        public var summariesSent: Int64
        public var lastError: String?
        public var lastErrorAt: Double?

        enum CodingKeys: String, CodingKey {
            case name, totals, checkpoint, retries, duplicates, truncated
            case byInput = "by_input"
            case filteredBy = "filtered_by"
            case throttledBy = "throttled_by"
            case inFlightBatches = "in_flight_batches"
            case summariesSent = "summaries_sent"
            case lastError = "last_error"
            case lastErrorAt = "last_error_at"
        }
    }

    public struct Input: Sendable, Codable, Equatable {
        public var name: String
        /// Events accepted into the spool from this input since the spool was created.
        public var received: EventTally
        /// Requests refused because the spool was full.
        public var refused: Int64
    }

    /// One scheduled query's volume on one UTC day (osquery `name`).
    public struct QueryVolume: Sendable, Codable, Equatable {
        public var day: String
        public var name: String
        public var events: Int64
        public var bytes: Int64
    }

    public var spool: Spool
    public var inputs: [Input]
    public var outputs: [Output]
    public var queries: [QueryVolume]
}
