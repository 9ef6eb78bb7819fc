import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PomonaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `pomona query`: a live query on chosen hosts and labels, results streamed as they arrive.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a live query on hosts and labels and stream one JSON line per host result.",
        discussion: """
            Results go to stdout, one JSON object per host: {"host": …, "host_id": …, "rows": […]} (plus \
            "error" when the host could not run it). Progress goes to stderr: "X% responded | a/b online hosts". \
            Hosts pick the query up at their next distributed check-in (10 s by default). The command ends \
            when the server finishes the campaign, with --exit as soon as every online target answered, or \
            at --timeout (exit status 1).
            """)

    @OptionGroup var client: ClientOptions
    @Option(help: "Comma-separated hostnames, UUIDs or serial numbers.") var hosts: String?
    @Option(help: "Comma-separated label names (\"All Hosts\" targets every host).") var labels: String?
    @Option(help: "The SQL to run.") var query: String?
    @Option(help: "Run a saved query by name instead of --query.") var queryName: String?
    @Flag(help: "Exit once every online target has answered.") var exit = false
    @Option(help: "Give up after this long: 30s, 5m, 1h (default: run until interrupted, or --exit).") var timeout: String?
    @Option(help: "Keep the query waiting for offline hosts this long (e.g. 1h); they run it when they come back.") var queueForOffline: String?
    @Flag(help: "No progress line on stderr.") var quiet = false

    func validate() throws {
        if (query == nil) == (queryName == nil) { throw ValidationError("give exactly one of --query and --query-name") }
        if Self.list(hosts).isEmpty && Self.list(labels).isEmpty { throw ValidationError("choose targets with --hosts and/or --labels") }
        if let timeout, Self.seconds(timeout) == nil { throw ValidationError("--timeout must look like 30s, 5m or 1h") }
        if let queueForOffline, Self.seconds(queueForOffline) == nil { throw ValidationError("--queue-for-offline must look like 30m or 24h") }
    }

    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// "90", "90s", "5m", "1h", "1m30s" → seconds.
    static func seconds(_ text: String) -> Double? {
        if let plain = Double(text), plain > 0 { return plain }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && total > 0 ? total : nil
    }

    func run() async throws {
        let context = try client.resolve().context
        let limit = timeout.flatMap(Self.seconds)
        let outcome = try await APIClient.with(context) { api in
            let source = try await querySource(api: api)
            let queue = queueForOffline.flatMap(Self.seconds).map { Int($0) }
            let campaign = try await Self.createCampaign(source: source, hosts: Self.list(hosts), labels: Self.list(labels), queueForOffline: queue, api: api)
            let display = ProgressDisplay(enabled: !quiet)
            let outcome: Outcome
            do {
                outcome = try await Self.race(seconds: limit) {
                    try await Self.stream(campaign: campaign, api: api, exitWhenComplete: exit, display: display)
                }
            } catch {
                display.finish()
                _ = try? await api.fleet(.DELETE, "/queries/run/\(campaign)")
                throw error
            }
            display.finish()
            // Stop the campaign: hosts that have not picked it up yet need not run it any more.
            if outcome != .finished || exit { _ = try? await api.fleet(.DELETE, "/queries/run/\(campaign)") }
            return (outcome, display.lastLine)
        }
        switch outcome.0 {
        case .finished: break
        case .streamEnded: printError("the server ended the stream: \(outcome.1)")
        case .timedOut: throw CLIError("timed out after \(timeout ?? "?"): \(outcome.1)")
        }
    }

    /// What to run: `{"query": sql}` or, for `--query-name`, `{"query_id": id}` (so the server applies
    /// its rules for saved queries, such as observers running only `observer_can_run` ones).
    func querySource(api: APIClient) async throws(CLIError) -> (String, JSONValue) {
        if let query { return ("query", .string(query)) }
        let name = queryName ?? ""
        let saved = try await SpecSource(api: api).listAll("/queries", key: "queries", query: [("query", name)])
        guard let id = saved.first(where: { $0["name"]?.stringValue == name })?["id"]?.intValue else {
            throw CLIError("no saved query named \"\(name)\"")
        }
        return ("query_id", .number(String(id)))
    }

    /// `POST /queries/run_by_identifiers` (hostnames, UUIDs, serials and label names, as fleetctl does).
    static func createCampaign(
        source: (String, JSONValue), hosts: [String], labels: [String], queueForOffline: Int?, api: APIClient
    ) async throws(CLIError) -> Int64 {
        var members: [(String, JSONValue)] = [
            source,
            ("selected", .object([("hosts", .array(hosts.map(JSONValue.string))), ("labels", .array(labels.map(JSONValue.string)))])),
        ]
        if let queueForOffline { members.append(("queue_for_offline_seconds", .number(String(queueForOffline)))) }
        let answer = try await api.fleet(.POST, "/queries/run_by_identifiers", body: .object(members))
        guard let id = answer["campaign"]?["id"]?.intValue else {
            throw CLIError("the server's answer has no campaign id")
        }
        return Int64(id)
    }

    enum Outcome: Sendable, Equatable {
        case finished
        case streamEnded
        case timedOut
    }

    /// Runs `body`, or gives up after `seconds`.
    static func race(seconds: Double?, _ body: @escaping @Sendable () async throws -> Outcome) async throws -> Outcome {
        guard let seconds else { return try await body() }
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return .timedOut
            }
            let first = try await group.next() ?? .finished
            group.cancelAll()
            return first
        }
    }

    /// Reads the campaign's event stream until it ends (or, with `--exit`, until every online
    /// target answered). One JSON line per host result on stdout.
    static func stream(campaign: Int64, api: APIClient, exitWhenComplete: Bool, display: ProgressDisplay) async throws -> Outcome {
        let response = try await api.openStream("/queries/run/\(campaign)/stream")
        var parser = ServerSentEventParser()
        var progress = LiveQueryProgress()
        display.show(progress.line)
        for try await buffer in response.body {
            for event in parser.feed(buffer.readableBytesView) {
                let data = (try? JSONValue.parse(Array(event.data.utf8))) ?? .string(event.data)
                switch event.event {
                case "result":
                    let hostID = LiveQueryOutput.hostID(of: data) ?? -Int64(progress.responded.count + 1)
                    let failed = (data["error"].map { $0 != .null && $0.stringValue?.isEmpty != true }) ?? false
                    if progress.applyResult(hostID: hostID, failed: failed) {
                        StandardOutput.write(String(decoding: LiveQueryOutput.line(for: data).encoded(), as: UTF8.self))
                    }
                case "totals":
                    progress.applyTotals(data)
                case "status":
                    progress.applyStatus(data)
                case "done":
                    if let totals = data.objectMembers, !totals.isEmpty { progress.applyTotals(data) }
                    progress.serverFinished = true
                    display.show(progress.line)
                    return .finished
                case "error":
                    display.clear()
                    throw CLIError("the server closed the result stream: \(data["message"]?.stringValue ?? data.stringValue ?? event.data)")
                default:
                    continue
                }
                display.show(progress.line)
                if exitWhenComplete && progress.complete { return .finished }
            }
        }
        return progress.complete ? .finished : .streamEnded
    }
}

/// Unbuffered stdout lines: a pipe reader sees each result as soon as it arrives.
enum StandardOutput {
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// The live progress line on stderr: redrawn in place on a terminal, one line per change otherwise.
final class ProgressDisplay: Sendable {
    let enabled: Bool
    let terminal: Bool
    private let last = Mutex("")

    var lastLine: String { last.withLock { $0 } }

    init(enabled: Bool) {
        self.enabled = enabled
        terminal = isatty(STDERR_FILENO) == 1
    }

    func show(_ line: String) {
        let previous = last.withLock { text in
            defer { text = line }
            return text
        }
        guard enabled, previous != line else { return }
        printError(terminal ? "\r\u{1B}[K" + line : line, terminator: terminal ? "" : "\n")
    }

    func clear() {
        if enabled && terminal { printError("\r\u{1B}[K", terminator: "") }
    }

    func finish() {
        if enabled && terminal && !lastLine.isEmpty { printError("") }
    }
}
