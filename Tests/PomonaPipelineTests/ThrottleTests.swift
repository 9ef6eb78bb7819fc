import NIOCore
import PomonaCore
import Testing
import Yams

@testable import PomonaPipeline

@Suite("Throttle stage")
struct ThrottleTests {
    func configuration(_ yaml: String) throws -> ThrottleConfiguration { try decode(ThrottleConfiguration.self, yaml) }

    /// Runs one event through `state`; true if it passed.
    func admit(_ state: inout ThrottleState, _ body: String = resultLine(), time: Double, now: Double) -> Bool {
        var event = draft(body)
        return state.admit(&event, eventTime: time, now: now) == .pass
    }

    @Test("windows are aligned to the epoch and chosen by event time")
    func alignedWindows() throws {
        var state = ThrottleState(configuration: try configuration("{key: [hostIdentifier, name], bucket_interval: 1m, default_limit: 2}"))
        let now = 150.0
        #expect(admit(&state, time: 61, now: now))
        #expect(admit(&state, time: 62, now: now))
        #expect(!admit(&state, time: 119.9, now: now))  // third event of window [60, 120)
        #expect(admit(&state, time: 120, now: now))  // next window, however close in time
        #expect(admit(&state, time: 121, now: now))
        #expect(!admit(&state, time: 179, now: now))
        #expect(admit(&state, time: 59.5, now: now))  // window [0, 60) is still in the ring
    }

    @Test("keys are counted apart")
    func keys() throws {
        var state = ThrottleState(configuration: try configuration("{key: [hostIdentifier, name], default_limit: 1}"))
        #expect(admit(&state, resultLine(host: "a"), time: 10, now: 10))
        #expect(!admit(&state, resultLine(host: "a"), time: 10, now: 10))
        #expect(admit(&state, resultLine(host: "b"), time: 10, now: 10))
        #expect(admit(&state, resultLine(name: "other", host: "a"), time: 10, now: 10))
        // No key: one shared limiter.
        var shared = ThrottleState(configuration: try configuration("{default_limit: 1}"))
        #expect(admit(&shared, resultLine(host: "a"), time: 10, now: 10))
        #expect(!admit(&shared, resultLine(host: "b"), time: 10, now: 10))
    }

    @Test("the first matching rule decides; the default limit covers the rest")
    func ruleOrder() throws {
        let yaml = """
            key: [hostIdentifier]
            default_limit: 100
            rules:
              - name: all-packs
                when: {field: name, prefix: pack_}
                limit: 1
              - name: processes
                conditions: {name: pack_it_processes}
                limit: 100
            """
        var state = ThrottleState(configuration: try configuration(yaml))
        var event = draft(resultLine())
        #expect(state.admit(&event, eventTime: 10, now: 10) == .pass)
        #expect(state.admit(&event, eventTime: 10, now: 10) == .drop(rule: "all-packs", key: "web-01"))
        var other = draft(resultLine(name: "osquery_info"))
        for _ in 0..<100 { #expect(state.admit(&other, eventTime: 10, now: 10) == .pass) }
        #expect(state.admit(&other, eventTime: 10, now: 10) == .drop(rule: "default", key: "web-01"))
        #expect(state.statistics.droppedEvents == ["all-packs": 1, "default": 1])
    }

    @Test("limit -1 is unlimited and 0 drops everything")
    func specialLimits() throws {
        var unlimited = ThrottleState(configuration: try configuration("{default_limit: -1}"))
        for _ in 0..<1000 { #expect(admit(&unlimited, time: 10, now: 10)) }
        var none = ThrottleState(configuration: try configuration("{default_limit: 0}"))
        #expect(!admit(&none, time: 10, now: 10))
    }

    @Test("size limits count the event's bytes, charged before the comparison")
    func byteLimits() throws {
        let body = resultLine()
        let size = body.utf8.count
        var state = ThrottleState(configuration: try configuration("{limit_kind: size, default_limit: \(size * 2 + 10)}"))
        #expect(admit(&state, body, time: 10, now: 10))
        #expect(admit(&state, body, time: 10, now: 10))
        #expect(!admit(&state, body, time: 10, now: 10))
        #expect(state.statistics.droppedBytes["default"] == Int64(size))
        // A rule may count bytes while the default counts events.
        var mixed = ThrottleState(configuration: try configuration(
            "{default_limit: 1, rules: [{when: {field: name, equals: big}, limit: 10, limit_kind: size}]}"))
        #expect(!admit(&mixed, resultLine(name: "big"), time: 10, now: 10))
        #expect(admit(&mixed, time: 10, now: 10))
    }

    @Test("events older than the ring or in the future are charged to the current window")
    func outOfRing() throws {
        var state = ThrottleState(configuration: try configuration("{bucket_interval: 60, buckets_count: 2, default_limit: 2}"))
        let now = 1000.0  // window 16; the ring holds windows 15 and 16
        #expect(admit(&state, time: 0, now: now))  // charged to window 16
        #expect(admit(&state, time: 1e12, now: now))  // future: window 16
        #expect(!admit(&state, time: 970, now: now))  // window 16 is full
        #expect(admit(&state, time: 930, now: now))  // window 15 is in the ring
        var summaries = state.closeWindows(now: 1020)
        #expect(summaries.count == 1)
        #expect(summaries.first?.windowStart == 960)
        summaries = state.closeWindows(now: 2000)
        #expect(summaries.isEmpty)
    }

    @Test("a summary per key and window, emitted once the window has ended")
    func summaries() throws {
        var state = ThrottleState(configuration: try configuration("{name: per-query, key: [hostIdentifier, name], default_limit: 1}"))
        for _ in 0..<4 { _ = admit(&state, time: 65, now: 70) }
        for _ in 0..<3 { _ = admit(&state, resultLine(host: "web-02"), time: 70, now: 70) }
        #expect(state.closeWindows(now: 119).isEmpty)
        let summaries = state.closeWindows(now: 120)
        #expect(summaries.count == 2)
        let first = try #require(summaries.first)
        #expect(first.droppedEvents == 3)
        #expect(first.droppedBytes == Int64(resultLine().utf8.count * 3))
        #expect(first.windowStart == 60 && first.windowEnd == 120)
        #expect(first.key.map(\.field) == ["hostIdentifier", "name"])
        #expect(first.key.map(\.value) == ["web-01", "pack_it_processes"])
        #expect(first.message.hasPrefix(
            "3 events of query pack_it_processes from host web-01 dropped by throttle rule default between 1970-01-01T00:01:00Z and 1970-01-01T00:02:00Z"))
        let body = try json(first.body(route: "r1"))
        #expect(body["event_type"] == .string("pomona.throttle_summary"))
        #expect(body["route"] == .string("r1"))
        #expect(body["stage"] == .string("per-query"))
        #expect(body["rule"] == .string("default"))
        #expect(body["key"] == .object([("hostIdentifier", .string("web-01")), ("name", .string("pack_it_processes"))]))
        #expect(body["dropped_events"] == .number("3"))
        #expect(body["window_start"] == .number("60"))
        #expect(body["window_end"] == .number("120"))
        #expect(body["message"] == .string(first.message))
        #expect(summaries[1].droppedEvents == 2)
        #expect(state.closeWindows(now: 500).isEmpty)
        // Late drops for a summarised window produce a second summary for it.
        _ = admit(&state, time: 65, now: 100)
        #expect(state.closeWindows(now: 120).count == 1)
    }

    @Test("a summary names the query and host only when every dropped event had the same")
    func mixedSummaries() throws {
        var state = ThrottleState(configuration: try configuration("{key: [name], default_limit: 0}"))
        _ = admit(&state, resultLine(host: "a"), time: 10, now: 10)
        _ = admit(&state, resultLine(host: "b"), time: 10, now: 10)
        let summary = try #require(state.closeWindows(now: 60).first)
        #expect(summary.query == "pack_it_processes")
        #expect(summary.host == nil)
        #expect(summary.message.hasPrefix("2 events of query pack_it_processes dropped by throttle rule default"))
        #expect(try json(summary.body(route: "r"))["host_identifier"] == nil)
    }

    @Test("summaries can be turned off; drops are still counted")
    func noSummaries() throws {
        var state = ThrottleState(configuration: try configuration("{default_limit: 0, summaries: false}"))
        _ = admit(&state, time: 10, now: 10)
        #expect(state.closeWindows(now: 1000).isEmpty)
        #expect(state.statistics.droppedEvents["default"] == 1)
    }

    @Test("stale limiters are evicted and live keys stay under max_keys")
    func eviction() throws {
        var state = ThrottleState(configuration: try configuration("{key: [hostIdentifier], bucket_interval: 60, buckets_count: 2, max_keys: 3}"))
        for host in ["a", "b", "c"] { _ = admit(&state, resultLine(host: host), time: 10, now: 10) }
        #expect(state.statistics.liveKeys == 3)
        _ = admit(&state, resultLine(host: "d"), time: 70, now: 70)  // at max_keys: the least recent tenth goes
        #expect(state.statistics.liveKeys <= 3)
        #expect(state.statistics.evictedKeys >= 1)
        _ = state.closeWindows(now: 200)  // window 3; the ring holds 2 and 3: all limiters are stale
        #expect(state.statistics.liveKeys == 0)
        // An evicted key starts fresh, exactly as its zeroed ring would have.
        #expect(admit(&state, resultLine(host: "a"), time: 200, now: 200))
    }

    @Test("time_field picks the window from another field")
    func timeField() throws {
        var state = ThrottleState(configuration: try configuration("{time_field: columns.ts, default_limit: 1}"))
        #expect(admit(&state, resultLine(columns: #"{"ts":"61"}"#), time: 10, now: 130))
        #expect(admit(&state, resultLine(columns: #"{"ts":"121"}"#), time: 10, now: 130))
        #expect(!admit(&state, resultLine(columns: #"{"ts":"1970-01-01T00:01:30Z"}"#), time: 10, now: 130))
    }

    @Test("configuration: defaults, file.d aliases and errors naming the key")
    func configurationKeys() throws {
        let defaults = try configuration("{}")
        #expect(defaults.bucketInterval == 60 && defaults.bucketsCount == 60 && defaults.defaultLimit == 5000)
        #expect(defaults.limitKind == .count && defaults.summaries && defaults.key.isEmpty)
        let aliased = try configuration("{throttle_field: hostIdentifier, bucket_interval: 30s}")
        #expect(aliased.key.map(\.text) == ["hostIdentifier"] && aliased.bucketInterval == 30)
        #expect(try configuration("{bucket_interval: 1h}").bucketInterval == 3600)
        #expect(try configuration("{bucket_interval: 0.5}").bucketInterval == 0.5)
        #expect(try configuration("{rules: [{when: {field: a, equals: b}, limit: 1}]}").rules.first?.name == "rule1")
        let cases: [(String, String)] = [
            ("{bucket_interval: soon}", "pipeline.bucket_interval: \"soon\" is not a duration"),
            ("{bucket_interval: -1}", "pipeline.bucket_interval: must be a positive"),
            ("{limit_kind: bytes}", "pipeline.limit_kind: \"bytes\" is not count or size"),
            ("{rules: [{limit: 1}]}", "needs \"when\" or \"conditions\""),
            ("{rules: [{when: {field: a, equals: b}}]}", "needs \"limit\""),
            ("{rules: [{when: {field: a, equals: b}, limit: x}]}", "pipeline.rules[0].limit: expected an integer"),
            ("{rules: [{when: {field: a, equals: b}, limit: 1, limt_kind: size}]}", "pipeline.rules[0].limt_kind: unknown key"),
            ("{key: a, throttle_field: b}", "either key or throttle_field"),
            ("{buckets_count: 0}", "pipeline.buckets_count: must be between"),
            ("{rules: [{name: default, conditions: {a: b}, limit: 1}]}", "rule name \"default\""),
            ("{defualt_limit: 3}", "unknown key \"defualt_limit\""),
        ]
        for (yaml, message) in cases {
            let error = configurationError(ThrottleConfiguration.self, yaml)
            #expect(error?.contains(message) == true, "\(yaml): \(error ?? "no error")")
        }
    }

    @Test("through the output processor: throttled outcomes and summary events on tick")
    func processor() throws {
        let route = try decode(RouteConfiguration.self, """
            name: results
            stages:
              - {type: throttle, name: per-query, key: [hostIdentifier, name], default_limit: 2}
            outputs: [splunk]
            """)
        let processor = OutputProcessor(outputName: "splunk", routes: [route], hosts: FixedHostFacts())
        var outcomes: [StageOutcome] = []
        for n in 0..<5 { outcomes.append(processor.process(spooled(resultLine(unixTime: 1_785_844_801), id: "s:\(n)"), now: 1_785_844_810)) }
        #expect(outcomes.filter { if case .forward = $0 { true } else { false } }.count == 2)
        #expect(outcomes[4] == .throttled(route: "results", stage: "per-query", rule: "default", key: "web-01|pack_it_processes"))
        #expect(processor.tick(now: 1_785_844_859).isEmpty)  // the window is [1785844800, 1785844860)
        let summaries = processor.tick(now: 1_785_844_860)
        #expect(summaries.count == 1)
        let summary = try #require(summaries.first)
        #expect(summary.sourcetype == "pomona:throttle_summary")
        #expect(summary.time == 1_785_844_800)
        #expect(summary.host == "web-01")
        #expect(try json(summary.body)["dropped_events"] == .number("3"))
        let statistics = processor.statistics()
        #expect(statistics.throttled["results/per-query/default"] == 3)
        #expect(statistics.summaries == 1)
        #expect(statistics.throttles["results/per-query"]?.droppedEvents["default"] == 3)
    }
}
