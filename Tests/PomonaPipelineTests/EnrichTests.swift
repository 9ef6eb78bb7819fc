import PomonaCore
import Testing
import Yams

@testable import PomonaPipeline

@Suite("Enrich stage")
struct EnrichTests {
    let hosts = FixedHostFacts(byID: [7: FixedHostFacts.web01], byIdentifier: ["lab-mac": FixedHostFacts.web01])

    @Test("adds the host object from the enrolled host")
    func byHostID() throws {
        var event = draft(resultLine())
        let facts = EnrichStage().apply(&event, hostID: 7, provider: hosts)
        #expect(facts == FixedHostFacts.web01)
        let value = try json(event.body)
        #expect(value["host"] == (try json(#"{"hostname":"web-01.example.com","uuid":"4C4C4544-0001","hardware_serial":"SN123","platform":"ubuntu","os_version":"22.04.4 LTS","primary_ip":"10.0.0.5","primary_mac":"52:54:00:12:34:56","logged_in_user":"alice","labels":["All Hosts","Linux \"servers\""]}"#)))
        // Everything else is the agent's bytes, unchanged.
        #expect(text(event.body).hasPrefix(String(resultLine().dropLast())))
    }

    @Test("collector events find their host by the identifier field")
    func byIdentifier() throws {
        let stage = try decode(EnrichStage.self, "{type: enrich, field: device, identifier_field: source.host}")
        var event = draft(#"{"source":{"host":"lab-mac"},"msg":"x"}"#, sourcetype: "collector:edr", input: "edr")
        #expect(stage.apply(&event, hostID: nil, provider: hosts) != nil)
        #expect(try json(event.body)["device"]?["hostname"] == .string("web-01.example.com"))
    }

    @Test("an unknown host leaves the event unchanged")
    func unknown() throws {
        var event = draft(resultLine(host: "nobody"))
        #expect(EnrichStage().apply(&event, hostID: 99, provider: hosts) == nil)
        #expect(text(event.body) == resultLine(host: "nobody"))
    }

    @Test("an existing host member is replaced, not duplicated")
    func replaces() throws {
        var event = draft(#"{"host":"spoofed","a":1}"#)
        EnrichStage().apply(&event, hostID: 7, provider: hosts)
        let value = try json(event.body)
        #expect(value.objectMembers?.filter { $0.0 == "host" }.count == 1)
        #expect(value["host"]?["uuid"] == .string("4C4C4544-0001"))
    }

    @Test("processor: misses are counted and the event still goes out")
    func processorCountsMisses() throws {
        let route = try decode(RouteConfiguration.self, "{name: r, stages: [{type: enrich}], outputs: [o]}")
        let processor = OutputProcessor(outputName: "o", routes: [route], hosts: hosts)
        guard case .forward(let known) = processor.process(spooled(resultLine()), now: 0) else { Issue.record("not forwarded"); return }
        #expect(known.first?.host == "web-01.example.com")
        guard case .forward(let unknown) = processor.process(spooled(resultLine(host: "h9"), hostID: 99), now: 0) else {
            Issue.record("not forwarded"); return
        }
        #expect(unknown.first?.host == "h9")
        #expect(text(unknown[0].body) == resultLine(host: "h9"))
        #expect(processor.statistics().enrichMisses == ["r": 1])
    }

    @Test("configuration errors")
    func errors() {
        #expect(configurationError(EnrichStage.self, "{type: enrich, field: a.b}")?.contains("pipeline.field:") == true)
        #expect(configurationError(EnrichStage.self, "{type: enrich, fields: x}")?.contains("unknown key \"fields\"") == true)
    }
}
