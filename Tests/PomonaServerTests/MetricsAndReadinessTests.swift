import Testing

@testable import PomonaServer

@Suite struct MetricsAndReadinessTests {
    @Test func prometheusTextEscapesLabelValuesAndDeclaresFamiliesOnce() {
        var text = PrometheusText()
        text.counter("pomona_x_total", "X", 3, labels: [("route", "a\"b\\c\nd")])
        text.counter("pomona_x_total", "X", 4, labels: [("route", "e")])
        text.gauge("pomona_y", "Y", 0.25)
        #expect(
            text.text == """
                # HELP pomona_x_total X
                # TYPE pomona_x_total counter
                pomona_x_total{route="a\\"b\\\\c\\nd"} 3
                pomona_x_total{route="e"} 4
                # HELP pomona_y Y
                # TYPE pomona_y gauge
                pomona_y 0.25

                """)
    }

    @Test func metricsTokenIsABearerTokenComparedExactly() {
        let token = "0123456789abcdef"
        #expect(MetricsToken.accepts("Bearer 0123456789abcdef", token: token))
        #expect(MetricsToken.accepts("bearer 0123456789abcdef", token: token))
        #expect(!MetricsToken.accepts(nil, token: token))
        #expect(!MetricsToken.accepts("Bearer 0123456789abcdeF", token: token))
        #expect(!MetricsToken.accepts("Bearer 0123456789abcdef0", token: token))
        #expect(!MetricsToken.accepts("Basic 0123456789abcdef", token: token))
    }

    @Test func metricsTokenConfiguration() throws {
        var c = ServerConfiguration()
        try c.apply(yaml: "metrics: { token: 0123456789abcdef }", source: "pomona.yml")
        #expect(c.metricsToken == "0123456789abcdef")
        try c.validate()
        try c.apply(environment: ["POMONA_METRICS_TOKEN": "short"])
        #expect(throws: ConfigurationError("metrics.token must be at least 16 characters without spaces (it guards /metrics)")) { try c.validate() }
        #expect(throws: ConfigurationError("pomona.yml: unknown key \"metrics.listen\"")) {
            try c.apply(yaml: "metrics: { listen: 1 }", source: "pomona.yml")
        }
    }

    static func output(_ name: String, lastErrorAt: Double?, spooled: Int64) -> Readiness.OutputState {
        Readiness.OutputState(name: name, lastErrorAt: lastErrorAt, spooledEvents: spooled)
    }

    @Test func readinessNeedsWritableDatabaseAndSpoolAndOneOutputNotFailing() {
        let now = 10_000.0
        let outputs = [
            Self.output("splunk", lastErrorAt: now - 5, spooled: 10),  // failing
            Self.output("file", lastErrorAt: now - 5, spooled: 0),  // failed, nothing to deliver
            Self.output("es", lastErrorAt: now - 120, spooled: 10),  // failed long ago
            Self.output("syslog", lastErrorAt: nil, spooled: 10),
        ]
        #expect(Readiness.failingOutputs(outputs, now: now) == ["splunk"])
        let one = Readiness(database: true, spool: true, failingOutputs: ["splunk"], outputCount: 4)
        #expect(one.ready)
        #expect(one.checks.map(\.1) == ["ok", "ok", "failing: splunk"])
        let all = Readiness(database: true, spool: true, failingOutputs: ["a", "b"], outputCount: 2)
        #expect(!all.ready)
        #expect(all.checks.last?.1 == "all failing: a, b")
        #expect(!Readiness(database: false, spool: true, failingOutputs: [], outputCount: 0).ready)
        #expect(!Readiness(database: true, spool: false, failingOutputs: [], outputCount: 0).ready)
        #expect(Readiness(database: true, spool: true, failingOutputs: [], outputCount: 0).ready, "no outputs: nothing to fail")
    }

    @Test func residentPagesFromStatm() {
        #expect(ProcessFacts.residentPages(statm: "12345 678 90 1 0 2 0\n") == 678)
        #expect(ProcessFacts.residentPages(statm: "garbage") == nil)
        let facts = ProcessFacts.current()
        #expect((facts?.residentBytes ?? 0) > 0 && (facts?.openFDs ?? 0) > 0)
    }
}
