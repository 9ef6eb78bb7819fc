import NIOCore
import PomonaCore
import Testing
import Yams

@testable import PomonaPipeline

@Suite("Routes and the output processor")
struct RouteTests {
    struct Routes: Decodable { var routes: [RouteConfiguration] }

    static let yaml = """
        routes:
          - name: results
            match: {sourcetypes: ["osquery:result"]}
            stages:
              - {type: filter, name: drop-debug, when: {field: name, prefix: pack_debug_}}
              - {type: transform, flatten: [columns]}
            outputs:
              - splunk
              - {name: elastic, sourcetype: "osquery:result:flat"}
          - name: everything-to-archive
            outputs: [archive]
          - name: security
            match:
              sourcetype: "collector:*"
              when: {field: severity, in: [high, critical]}
            stages:
              - {type: enrich, identifier_field: device}
            outputs: [splunk]
        """

    func processors() throws -> [String: OutputProcessor] {
        let routes = try decode(Routes.self, Self.yaml).routes
        let hosts = FixedHostFacts(byID: [7: FixedHostFacts.web01], byIdentifier: ["web-01": FixedHostFacts.web01])
        return Dictionary(uniqueKeysWithValues: ["splunk", "elastic", "archive", "unused"].map {
            ($0, OutputProcessor(outputName: $0, routes: routes, hosts: hosts))
        })
    }

    @Test("an event goes to every matching route's outputs, each once, with that route's stages")
    func fanOut() throws {
        let p = try processors()
        let event = spooled(resultLine(), id: "seg1:10:0")
        guard case .forward(let toSplunk) = p["splunk"]!.process(event, now: 0),
            case .forward(let toElastic) = p["elastic"]!.process(event, now: 0),
            case .forward(let toArchive) = p["archive"]!.process(event, now: 0)
        else { Issue.record("not forwarded everywhere"); return }
        #expect(toSplunk.count == 1 && toElastic.count == 1 && toArchive.count == 1)
        #expect(try json(toSplunk[0].body)["columns_name"] == .string("sshd"))
        #expect(toSplunk[0].sourcetype == "osquery:result")
        #expect(toElastic[0].sourcetype == "osquery:result:flat")
        #expect(text(toArchive[0].body) == resultLine())  // the archive route has no stages
        #expect(toSplunk[0].id == "seg1:10:0")  // one matching route per output: the spooled id
        #expect(toSplunk[0].time == 1_785_844_801)
        #expect(toSplunk[0].host == "web-01.example.com")
        #expect(p["unused"]!.process(event, now: 0) == .unrouted)
        #expect(!p["unused"]!.hasRoutes)
        #expect(p["splunk"]!.routeNames == ["results", "security"])
    }

    @Test("filtered in one route is not filtered for another route's outputs")
    func filteredPerRoute() throws {
        let p = try processors()
        let debug = spooled(resultLine(name: "pack_debug_x"))
        #expect(p["splunk"]!.process(debug, now: 0) == .filtered(route: "results", stage: "drop-debug"))
        guard case .forward = p["archive"]!.process(debug, now: 0) else { Issue.record("archive must get it"); return }
        #expect(p["splunk"]!.statistics().filtered == ["results/drop-debug": 1])
    }

    @Test("match by sourcetype glob and condition; unmatched events are unrouted")
    func matching() throws {
        let p = try processors()
        let high = spooled(#"{"severity":"high","device":"web-01"}"#, sourcetype: "collector:edr", hostID: nil, input: "edr")
        guard case .forward(let events) = p["splunk"]!.process(high, now: 0) else { Issue.record("not forwarded"); return }
        #expect(try json(events[0].body)["host"]?["hostname"] == .string("web-01.example.com"))
        #expect(events[0].time == 1_785_844_900)  // no unixTime/calendarTime: the receive time
        let low = spooled(#"{"severity":"low"}"#, sourcetype: "collector:edr", hostID: nil, input: "edr")
        #expect(p["splunk"]!.process(low, now: 0) == .unrouted)
        #expect(p["elastic"]!.process(low, now: 0) == .unrouted)
        #expect(p["splunk"]!.statistics().unrouted == 1)
    }

    @Test("two routes to one output: two events with route-suffixed ids")
    func fork() throws {
        let routes = try decode(Routes.self, """
            routes:
              - {name: raw, outputs: [siem]}
              - {name: flat, stages: [{type: transform, flatten: [columns]}], outputs: [siem]}
            """).routes
        let processor = OutputProcessor(outputName: "siem", routes: routes, hosts: FixedHostFacts())
        guard case .forward(let events) = processor.process(spooled(resultLine(), id: "s:1:2"), now: 0) else {
            Issue.record("not forwarded"); return
        }
        #expect(events.map(\.id) == ["s:1:2/raw", "s:1:2/flat"])
        #expect(text(events[0].body) == resultLine())
        #expect(try json(events[1].body)["columns_pid"] == .string("812"))
        #expect(processor.statistics().forwardedEvents == 2)
        #expect(processor.statistics().forwarded == 1)
    }

    @Test("event time from calendarTime when unixTime is missing or zero")
    func calendarTime() throws {
        let routes = try decode(Routes.self, "routes: [{name: r, outputs: [o]}]").routes
        let processor = OutputProcessor(outputName: "o", routes: routes, hosts: FixedHostFacts())
        let body = #"{"calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":0}"#
        guard case .forward(let events) = processor.process(spooled(body), now: 0) else { Issue.record("not forwarded"); return }
        #expect(events[0].time == 1_785_844_801)
        #expect(EventTime.parseCalendarTime("Mon May  2 22:27:32 2016 UTC") == 1_462_228_052)
        #expect(EventTime.parseCalendarTime("no_time") == nil)
        // Found by fuzzing: years this large overflowed the day arithmetic and trapped.
        #expect(EventTime.parseCalendarTime("Tue Aug  4 12:00:01 999999999999 UTC") == nil)
        #expect(EventTime.parseCalendarTime("Tue Aug  4 12:00:01 99999999999999999 UTC") == nil)
        #expect(EventTime.parseCalendarTime("Fri Dec 31 23:59:59 9999 UTC") == 253_402_300_799)
    }

    @Test("the time read without an index is the indexed one", arguments: [
        #"{"name":"q","hostIdentifier":"h","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"columns":{"a":"1"}}"#,
        #"{"unixTime":"1785844801","epoch":0}"#,
        #"{"unixTime":1785844801.5}"#,
        #"{"unixTime":"1.7e9"}"#,
        #"{"calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":0}"#,
        #"{"calendarTime":"Tue Aug  4 12:00:01 2026 UTC"}"#,
        #"{"unix\u0054ime":1785844801}"#,
        #"{"unixTime":"17858\u00344801"}"#,
        #"{"unixTime":1785844801,"unixTime":5}"#,
        #"{"columns":{"unixTime":7}}"#,
        #"{"unixTime":null}"#,
        "{}",
    ])
    func timeWithoutIndex(_ body: String) {
        var indexed = EventDraft(bytes: Array(body.utf8))
        var plain = EventDraft(bytes: Array(body.utf8))
        #expect(EventTime.ofReadingOnlyTime(&plain) == EventTime.of(&indexed))
    }

    @Test("configuration errors name the route, stage and key")
    func errors() {
        let cases: [(String, String)] = [
            ("routes: [{outputs: [a]}]", "pipeline.routes[0]: a route needs \"name\""),
            ("routes: [{name: r}]", "pipeline.routes[0]: a route needs \"outputs\""),
            ("routes: [{name: r, outputs: []}]", "pipeline.routes[0].outputs: must list at least one output"),
            ("routes: [{name: r, outputs: [a, a]}]", "output \"a\" is listed twice"),
            ("routes: [{name: r, outputs: [a], stages: [{type: dedupe}]}]", "pipeline.routes[0].stages[0].type: \"dedupe\" is not a stage type"),
            ("routes: [{name: r, outputs: [a], stages: [{when: {field: a, equals: b}}]}]", "pipeline.routes[0].stages[0]: a stage needs \"type\""),
            ("routes: [{name: r, outputs: [a], stages: [{type: throttle, default_limit: x}]}]", "pipeline.routes[0].stages[0].default_limit: expected an integer"),
            ("routes: [{name: r, outputs: [a], match: {sourcetypes: [x], severity: 1}}]", "pipeline.routes[0].match.severity: unknown key"),
            ("routes: [{name: r, outputs: [{sourcetype: s}]}]", "pipeline.routes[0].outputs[0]: a route output needs \"name\""),
            ("routes: [{name: r, outputs: [{name: o, index: i}]}]", "pipeline.routes[0].outputs[0].index: outputs choose the index by sourcetype"),
            ("routes: [{name: r, outputs: [a], stages: [{type: filter, when: {field: a, equals: b}}, {type: filter, when: {field: a, equals: b}, name: filter1}]}]", "stage name \"filter1\" is used twice"),
            ("routes: [{name: r, output: [a]}]", "pipeline.routes[0].output: unknown key"),
        ]
        for (yaml, message) in cases {
            let error = configurationError(Routes.self, yaml)
            #expect(error?.contains(message) == true, "\(yaml): \(error ?? "no error")")
        }
    }

    @Test("validation against the configured outputs")
    func validation() throws {
        let routes = try decode(Routes.self, Self.yaml).routes
        #expect(throws: Never.self) { try RouteConfiguration.validate(routes, outputNames: ["splunk", "elastic", "archive"]) }
        #expect(throws: RouteConfigurationError("pipeline.routes[1].outputs[0]: no output is named \"archive\" (configured: elastic, splunk)")) {
            try RouteConfiguration.validate(routes, outputNames: ["splunk", "elastic"])
        }
        let twice = try decode(Routes.self, "routes: [{name: r, outputs: [a]}, {name: r, outputs: [a]}]").routes
        #expect(throws: RouteConfigurationError.self) { try RouteConfiguration.validate(twice, outputNames: ["a"]) }
    }

    @Test("stage names default to type and position")
    func defaultNames() throws {
        let route = try decode(RouteConfiguration.self, "{name: r, outputs: [o], stages: [{type: enrich}, {type: filter, when: {field: a, exists: true}}]}")
        #expect(route.stages.map(\.name) == ["enrich1", "filter2"])
    }

    @Test("every spooled event has exactly one outcome, and flush summarises open windows")
    func accounting() throws {
        let routes = try decode(Routes.self, """
            routes:
              - name: results
                match: {sourcetype: "osquery:result"}
                stages:
                  - {type: filter, name: no-debug, when: {field: name, prefix: pack_debug_}}
                  - {type: throttle, name: t, key: [hostIdentifier], default_limit: 3}
                outputs: [siem]
            """).routes
        let processor = OutputProcessor(outputName: "siem", routes: routes, hosts: FixedHostFacts())
        var counts: [String: Int] = [:]
        for n in 0..<40 {
            let name = n % 4 == 0 ? "pack_debug_x" : "pack_it_processes"
            let event = spooled(resultLine(name: name, host: "h\(n % 2)"), sourcetype: n % 10 == 9 ? "osquery:status" : "osquery:result", id: "s:\(n)")
            switch processor.process(event, now: 1_785_844_830) {
            case .forward: counts["forward", default: 0] += 1
            case .filtered: counts["filtered", default: 0] += 1
            case .throttled: counts["throttled", default: 0] += 1
            case .unrouted: counts["unrouted", default: 0] += 1
            }
        }
        #expect(counts.values.reduce(0, +) == 40)
        #expect(counts["unrouted"] == 4)  // n = 9, 19, 29, 39
        #expect(counts["filtered"] == 10)  // n % 4 == 0
        #expect(counts["forward"] == 6)  // 3 per host
        #expect(counts["throttled"] == 20)
        let statistics = processor.statistics()
        #expect(statistics.processed == 40)
        #expect(statistics.forwarded + statistics.unrouted + Int64(statistics.filtered.values.reduce(0, +))
            + Int64(statistics.throttled.values.reduce(0, +)) == 40)
        // The window has not ended; flush (shutdown) summarises it anyway.
        #expect(processor.tick(now: 1_785_844_830).isEmpty)
        let summaries = processor.flush()
        #expect(summaries.count == 2)
        #expect(try summaries.map { try json($0.body)["dropped_events"] } == [.number("7"), .number("13")])  // h0: 10 - 3, h1: 16 - 3
    }
}
