import ArgumentParser
import Foundation
import NIOHTTP1
import PomonaCore
import PomonaPipeline

/// `pomona pipeline stats`: the pipeline's books as the server keeps them — spool use, per output
/// and input `received = forwarded + filtered + throttled + dead_lettered + dropped + still_spooled`,
/// and which scheduled queries bring the most volume per day.
struct PipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "Inspect the event pipeline (spool, outputs, per-query volume).",
        subcommands: [Stats.self])

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show spool use, per-output accounting and per-query daily volume (observer role).",
            discussion: "Reads GET /api/v1/pomona/pipeline/stats on the admin listener with the logged-in context (or POMONA_API_TOKEN).")
        @OptionGroup var client: ClientOptions
        @Flag(help: "Print the server's JSON answer as it is.") var json = false
        @Option(help: "Per-query volume: how many UTC days to show (newest first).") var days = 1
        @Option(help: "Per-query volume: how many queries per day to show (largest first).") var top = 20

        func run() async throws {
            let answer = try await APIClient.with(try client.resolve().context) { api in
                try await api.send(.GET, "/api/v1/pomona/pipeline/stats")
            }
            if json {
                print(String(decoding: answer.encoded(), as: UTF8.self))
                return
            }
            let stats: PipelineStats
            do { stats = try JSONDecoder().decode(PipelineStats.self, from: Data(answer.encoded())) } catch {
                throw CLIError("the server's pipeline stats are not in the expected shape (\(error)); try --json")
            }
            print(Self.render(stats, days: days, top: top))
        }

        static func render(_ stats: PipelineStats, days: Int, top: Int) -> String {
            var text = ""
            let s = stats.spool
            text += "Spool: \(bytes(s.bytes)) of \(bytes(s.maxBytes)) (\(percent(s.bytes, s.maxBytes))), \(s.segments) segments, "
                + "\(s.events) events; fsync \(s.fsync), when full \(s.whenFull); \(s.refusedAppends) requests refused (full)\n\n"
            text += TextTable(
                headers: ["input", "received events", "received bytes", "refused requests"],
                rows: stats.inputs.map { [$0.name, "\($0.received.events)", bytes($0.received.bytes), "\($0.refused)"] }
            ).rendered + "\n"
            var rows: [[String]] = []
            for output in stats.outputs {
                func row(_ input: String, _ c: PipelineStats.Counts) -> [String] {
                    [output.name, input, "\(c.received.events)", "\(c.forwarded.events)", "\(c.filtered.events)", "\(c.throttled.events)",
                     "\(c.deadLettered.events)", "\(c.dropped.events)", "\(c.stillSpooled.events)", c.balances ? "yes" : "NO"]
                }
                rows.append(row("(all)", output.totals))
                for input in output.byInput.keys.sorted() { rows.append(row(input, output.byInput[input]!)) }
            }
            text += TextTable(
                headers: ["output", "input", "received", "forwarded", "filtered", "throttled", "dead-lettered", "dropped", "spooled", "balances"],
                rows: rows
            ).rendered + "\n"
            for output in stats.outputs {
                var line = "\(output.name): \(output.inFlightBatches) batches in flight, \(output.retries) retries, \(output.duplicates) duplicates, "
                    + "\(output.summariesSent) throttle summaries sent, checkpoint \(output.checkpoint)"
                if let error = output.lastError {
                    let at = output.lastErrorAt.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "?"
                    line += "; last error at \(at): \(error)"
                }
                text += line + "\n"
                for (reason, tally) in output.filteredBy.sorted(by: { $0.value.events > $1.value.events }) {
                    text += "  filtered by \(reason): \(tally.events) events, \(bytes(tally.bytes))\n"
                }
                for (rule, tally) in output.throttledBy.sorted(by: { $0.value.events > $1.value.events }) {
                    text += "  throttled by \(rule): \(tally.events) events, \(bytes(tally.bytes))\n"
                }
            }
            let shownDays = Array(Set(stats.queries.map(\.day)).sorted(by: >).prefix(max(days, 0)))
            for day in shownDays {
                let entries = stats.queries.filter { $0.day == day }.sorted { $0.bytes > $1.bytes }
                let total = entries.reduce(Int64(0)) { $0 + $1.bytes }
                text += "\nQuery volume \(day) (UTC), \(bytes(total)) in \(entries.count) queries:\n"
                text += TextTable(
                    headers: ["query", "events", "bytes", "share"],
                    rows: entries.prefix(max(top, 0)).map { [$0.name, "\($0.events)", bytes($0.bytes), percent($0.bytes, total)] }
                ).rendered
            }
            return text
        }

        static func bytes(_ n: Int64) -> String {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var value = Double(n)
            var unit = 0
            while value >= 1024 && unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
        }

        static func percent(_ part: Int64, _ whole: Int64) -> String {
            whole == 0 ? "0%" : String(format: "%.1f%%", Double(part) * 100 / Double(whole))
        }
    }
}
