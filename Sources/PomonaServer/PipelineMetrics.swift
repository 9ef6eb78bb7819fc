import Hummingbird
import NIOCore
import PomonaAdminAPI
import PomonaPipeline
import Prometheus
import Synchronization

/// The pipeline's accounting in Prometheus text format (part of `GET /metrics`, ``ServerMetrics``).
///
/// The metrics are refreshed from ``Pipeline/stats()`` at each scrape (the pipeline's own
/// counters are the source of truth; nothing is counted twice). Labels are bounded: input,
/// output, outcome, reason/rule — never a host. Counters continue from the persisted totals
/// after a restart.
final class PipelineMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let pipeline: Pipeline
    /// Last value pushed into each counter, to increment by the difference.
    let last = Mutex<[String: Int64]>([:])

    init(pipeline: Pipeline) {
        self.pipeline = pipeline
    }

    func render() -> [UInt8] {
        let stats = pipeline.stats()
        gauge("pomona_spool_bytes", [], Double(stats.spool.bytes), "Bytes in the spool's segment files")
        gauge("pomona_spool_max_bytes", [], Double(stats.spool.maxBytes), "The spool's size bound")
        gauge("pomona_spool_segments", [], Double(stats.spool.segments), "Segment files in the spool")
        gauge("pomona_spool_events", [], Double(stats.spool.events), "Events in the spool (all outputs)")
        counter("pomona_spool_refused_appends_total", [], stats.spool.refusedAppends, "Requests refused because the spool was full")
        for input in stats.inputs {
            counter("pomona_pipeline_input_received_events_total", [("input", input.name)], input.received.events, "Events accepted into the spool")
            counter("pomona_pipeline_input_received_bytes_total", [("input", input.name)], input.received.bytes, "Event bytes accepted into the spool")
            counter("pomona_pipeline_input_refused_requests_total", [("input", input.name)], input.refused, "Requests refused: spool full")
        }
        for output in stats.outputs {
            for (input, counts) in output.byInput {
                let labels = [("output", output.name), ("input", input)]
                let outcomes: [(String, EventTally)] = [
                    ("received", counts.received), ("forwarded", counts.forwarded), ("filtered", counts.filtered),
                    ("throttled", counts.throttled), ("dead_lettered", counts.deadLettered), ("dropped", counts.dropped),
                ]
                for (outcome, tally) in outcomes {
                    counter("pomona_pipeline_events_total", labels + [("outcome", outcome)], tally.events,
                            "Events per output and input by outcome (received = the sum of the others + still spooled)")
                    counter("pomona_pipeline_bytes_total", labels + [("outcome", outcome)], tally.bytes, "Event bytes per output and input by outcome")
                }
                gauge("pomona_pipeline_spooled_events", labels, Double(counts.stillSpooled.events), "Events not yet resolved by the output")
                gauge("pomona_pipeline_spooled_bytes", labels, Double(counts.stillSpooled.bytes), "Event bytes not yet resolved by the output")
            }
            for (reason, tally) in output.filteredBy {
                counter("pomona_pipeline_filtered_events_total", [("output", output.name), ("reason", reason)], tally.events, "Filtered events by route/stage")
            }
            for (rule, tally) in output.throttledBy {
                counter("pomona_pipeline_throttled_events_total", [("output", output.name), ("rule", rule)], tally.events, "Throttled events by route/stage/rule")
            }
            counter("pomona_output_retries_total", [("output", output.name)], output.retries, "Send attempts that had to be retried")
            counter("pomona_output_duplicates_total", [("output", output.name)], output.duplicates, "Events the receiver already had (counted as delivered)")
            counter("pomona_output_truncated_total", [("output", output.name)], output.truncated, "Events cut to the receiver's size limit")
            counter("pomona_output_throttle_summaries_total", [("output", output.name)], output.summariesSent, "Throttle summary events delivered")
            gauge("pomona_output_in_flight_batches", [("output", output.name)], Double(output.inFlightBatches), "Batches being sent")
            gauge("pomona_output_last_error_timestamp_seconds", [("output", output.name)], output.lastErrorAt ?? 0, "When the output last failed (0: never)")
        }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Double, _ help: String) {
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels).set(value)
    }

    private func counter(_ name: String, _ labels: [(String, String)], _ value: Int64, _ help: String) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = last.withLock { last -> Int64 in
            let previous = last[key] ?? 0
            last[key] = max(previous, value)
            return value - previous
        }
        let counter = registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
        if delta > 0 { counter.increment(by: delta) }
    }

    /// Our names already end in their unit (`_total`, `_seconds`), so the descriptor's unit stays empty.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
