import PomonaPipeline

/// Whether the server can do its job now (`/readyz`): the database takes writes, the spool takes
/// writes, and the outputs are not all failing. Judged from the health loop's latest probes and
/// the pipeline's counters, never by touching the database in the request.
struct Readiness: Equatable {
    var database: Bool
    var spool: Bool
    /// Outputs failing now: retried within ``failingWindow`` with events still to deliver.
    var failingOutputs: [String]
    var outputCount: Int

    /// An output whose last error is older than this is taken to have recovered.
    static let failingWindow: Double = 60

    var outputsOK: Bool { outputCount == 0 || failingOutputs.count < outputCount }
    var ready: Bool { database && spool && outputsOK }

    /// Outputs that failed a send within the window and still have events to deliver (one with
    /// nothing spooled has nothing to fail at, whatever its last error).
    static func failingOutputs(_ outputs: [OutputState], now: Double) -> [String] {
        outputs.compactMap { output in
            guard let at = output.lastErrorAt, now - at <= failingWindow, output.spooledEvents > 0 else { return nil }
            return output.name
        }
    }

    /// What readiness needs of an output's stats.
    struct OutputState {
        var name: String
        /// Seconds since 1970 of its last failed send.
        var lastErrorAt: Double?
        var spooledEvents: Int64

        init(name: String, lastErrorAt: Double?, spooledEvents: Int64) {
            self.name = name
            self.lastErrorAt = lastErrorAt
            self.spooledEvents = spooledEvents
        }

        init(_ stats: PipelineStats.Output) {
            self.init(name: stats.name, lastErrorAt: stats.lastErrorAt, spooledEvents: stats.totals.stillSpooled.events)
        }
    }

    /// The checks as JSON members, in a fixed order.
    var checks: [(String, String)] {
        [
            ("database", database ? "ok" : "not writable"),
            ("spool", spool ? "ok" : "not writable"),
            ("outputs", outputsOK ? (failingOutputs.isEmpty ? "ok" : "failing: " + failingOutputs.joined(separator: ", ")) : "all failing: " + failingOutputs.joined(separator: ", ")),
        ]
    }
}
