// Throughput of the pipeline stages (no network, no spool): compiled together with
// Sources/PomonaPipeline/Stages by Benchmarks/stages.sh with -O. Prints figures; asserts nothing.
import Foundation
import NIOCore

struct Hosts: HostFactsProvider {
    let facts: [Int64: HostFacts]
    func facts(hostID: Int64) -> HostFacts? { facts[hostID] }
    func facts(identifier: String) -> HostFacts? { nil }
}

/// CPU seconds of this thread spent in `body`: on a shared 2-core machine wall time mostly measures
/// the neighbours, CPU time measures the code.
func seconds(_ body: () -> Void) -> Double {
    func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
    let start = now()
    body()
    return now() - start
}

func report(_ label: String, bytes: Int, events: Int, seconds: Double) {
    let mb = Double(bytes) / seconds / 1_000_000
    let eps = Double(events) / seconds
    print(label.padding(toLength: 58, withPad: " ", startingAt: 0), String(format: "%8.1f MB/s %11.0f events/s", mb, eps))
}

/// `stages-benchmark [WORD]` runs only the figures whose label contains WORD (for profiling).
let only = CommandLine.arguments.dropFirst().first
func selected(_ label: String) -> Bool { only.map { label.contains($0) } ?? true }

let hostsCount = 500
let queries = ["pack_it_processes", "pack_it_listening_ports", "pack_inventory_apps", "pack_security_shell_history", "osquery_info"]
func row(_ n: Int) -> String {
    #"{"cmdline":"/usr/libexec/some-daemon --flag=\#(n) --config /etc/daemon.conf","cwd":"/","name":"daemon\#(n % 50)","on_disk":"1","parent":"1","path":"/usr/libexec/some-daemon","pid":"\#(1000 + n)","resident_size":"10240000","start_time":"1785844000","uid":"0","user_time":"120"}"#
}
func common(_ n: Int) -> String {
    let host = "host-\(n % hostsCount)"
    return #""name":"\#(queries[n % queries.count])","hostIdentifier":"\#(host)","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":\#(1_785_844_801 + n / 1000),"epoch":0,"counter":3,"numerics":false,"decorations":{"host_uuid":"4C4C4544-\#(n % hostsCount)","hostname":"\#(host).example.com"}"#
}

// Log lines in the three shapes.
let eventLines = (0..<20_000).map { n in ByteBuffer(string: "{" + common(n) + #","columns":"# + row(n) + #","action":"added"}"#) }
let batchLines = (0..<2_000).map { n in
    ByteBuffer(string: #"{"diffResults":{"removed":["# + (0..<3).map { row(n + $0) }.joined(separator: ",") + #"],"added":["#
        + (0..<7).map { row(n + $0 + 3) }.joined(separator: ",") + "]}," + common(n) + "}")
}
let snapshotLines = (0..<2_000).map { n in
    ByteBuffer(string: #"{"snapshot":["# + (0..<10).map { row(n + $0) }.joined(separator: ",") + #"],"action":"snapshot","# + common(n) + "}")
}

print("Pomona pipeline stages, one thread, per CPU-second (thread CPU time), best of 5 runs each")
let splitter = OsqueryLogSplitter(snapshotMode: .perRow)
for (label, lines) in [("split: event-format lines (pass-through)", eventLines), ("split: batch diffResults lines (10 rows)", batchLines),
                       ("split: snapshot lines (10 rows, per_row)", snapshotLines)] where selected(label) {
    let bytes = lines.reduce(0) { $0 + $1.readableBytes }
    var events = 0
    var best = Double.infinity
    for _ in 0..<5 {
        var out: [ByteBuffer] = []
        out.reserveCapacity(lines.count * 10)
        best = min(best, seconds { for line in lines { try! splitter.split(line, into: &out) } })
        events = out.count
    }
    report(label, bytes: bytes, events: events, seconds: best)
}

// Spooled events: the rows of the batch lines, split.
var rows: [ByteBuffer] = []
for line in batchLines { try! splitter.split(line, into: &rows) }
let spooledEvents = rows.enumerated().map { n, body in
    SpooledEvent(input: "osquery", sourcetype: "osquery:result", hostID: Int64(n % hostsCount), receivedAt: 1_785_844_900, id: "s:\(n)", body: body)
}
let eventBytes = spooledEvents.reduce(0) { $0 + $1.body.readableBytes }
let facts = Dictionary(uniqueKeysWithValues: (0..<hostsCount).map { i in
    (Int64(i), HostFacts(id: Int64(i), hostname: "host-\(i).example.com", uuid: "4C4C4544-\(i)", hardwareSerial: "SN\(i)", platform: "ubuntu",
                          osVersion: "22.04.4 LTS", primaryIP: "10.0.\(i / 256).\(i % 256)", primaryMAC: "52:54:00:00:00:\(i % 100)",
                          loggedInUser: "alice", labels: ["All Hosts", "Linux"]))
})

func decodeRoutes(_ json: String) -> [RouteConfiguration] {
    struct Routes: Decodable { var routes: [RouteConfiguration] }
    return try! JSONDecoder().decode(Routes.self, from: Data(json.utf8)).routes
}

let configurations: [(String, String)] = [
    ("process: no stages (route only)", #"{"routes":[{"name":"r","outputs":["o"]}]}"#),
    ("process: throttle (host+query key) + enrich", #"{"routes":[{"name":"r","outputs":["o"],"stages":[{"type":"throttle","key":["hostIdentifier","name"],"default_limit":5000},{"type":"enrich"}]}]}"#),
    ("process: filter + throttle + enrich + flatten", #"{"routes":[{"name":"r","outputs":["o"],"stages":[{"type":"filter","when":{"field":"name","in":["pack_debug_a","pack_debug_b"]}},{"type":"throttle","key":["hostIdentifier","name"],"default_limit":5000},{"type":"enrich"},{"type":"transform","flatten":["columns","decorations"]}]}]}"#),
    ("process: + mask (regex on columns.cmdline)", #"{"routes":[{"name":"r","outputs":["o"],"stages":[{"type":"throttle","key":["hostIdentifier","name"],"default_limit":5000},{"type":"enrich"},{"type":"transform","mask":[{"fields":["columns.cmdline"],"regex":"--flag=\\S+","replace":"--flag=***"}]}]}]}"#),
]
for (label, json) in configurations where selected(label) {
    var best = Double.infinity
    var forwarded = 0
    for _ in 0..<5 {
        let processor = OutputProcessor(outputName: "o", routes: decodeRoutes(json), hosts: Hosts(facts: facts), clock: { 1_785_844_900 })
        var count = 0
        best = min(best, seconds {
            for event in spooledEvents {
                if case .forward(let out) = processor.process(event, now: 1_785_844_900) { count += out.count }
            }
        })
        forwarded = count
    }
    report(label + " (\(forwarded) fwd)", bytes: eventBytes, events: spooledEvents.count, seconds: best)
}

// Regex engines on this toolchain (why TextPattern uses NSRegularExpression).
if !selected("regex") { exit(0) }
let texts: [String] = (0..<20_000).map { i in
    i % 3 == 0 ? "mysql -u root -pS3cr3t\(i) -h db.example.com" : "curl -H 'Authorization: Bearer abc\(i)def' https://example.com/api/v1/items/\(i)"
}
let textBytes = texts.reduce(0) { $0 + $1.utf8.count }
let pattern = #"(-p\S+|Bearer \S+)"#
let ns = try! NSRegularExpression(pattern: pattern)
let swiftRegex = try! Regex(pattern)
var best = Double.infinity
for _ in 0..<3 { best = min(best, seconds { for t in texts { _ = ns.firstMatch(in: t, range: NSRange(location: 0, length: (t as NSString).length)) } }) }
report("regex search: NSRegularExpression", bytes: textBytes, events: texts.count, seconds: best)
best = .infinity
for _ in 0..<3 { best = min(best, seconds { for t in texts { _ = try? swiftRegex.firstMatch(in: t) } }) }
report("regex search: Swift Regex", bytes: textBytes, events: texts.count, seconds: best)
best = .infinity
for _ in 0..<3 { best = min(best, seconds { for t in texts { _ = ns.stringByReplacingMatches(in: t, range: NSRange(location: 0, length: (t as NSString).length), withTemplate: "***") } }) }
report("regex replace: NSRegularExpression", bytes: textBytes, events: texts.count, seconds: best)
best = .infinity
for _ in 0..<3 { best = min(best, seconds { for t in texts { _ = t.replacing(swiftRegex, with: "***") } }) }
report("regex replace: Swift Regex", bytes: textBytes, events: texts.count, seconds: best)
