import NIOCore
import Testing
@testable import PomonaPipeline

@Suite struct SyslogMessageFormatterTests {
    let formatter = SyslogMessageFormatter(facility: 16, severity: 6, appName: "pomona", structuredDataID: "pomona@32473", maxMessageBytes: 0)

    func format(_ event: PipelineEvent, _ formatter: SyslogMessageFormatter? = nil) -> (String, Bool) {
        var buffer = ByteBuffer()
        let cut = (formatter ?? self.formatter).append(event, to: &buffer)
        return (String(buffer: buffer), cut)
    }

    @Test func rfc5424Layout() {
        let event = OutputTestEvents.event(#"{"uid":"501"}"#, id: "seg1-42", host: "mac-01", time: 1_747_571_398.123456)
        #expect(format(event).0 == #"<134>1 2025-05-18T12:29:58.123456Z mac-01 pomona - osquery:result [pomona@32473 id="seg1-42"] {"uid":"501"}"#)
    }

    @Test func headerFieldsAreSanitisedAndSDValuesEscaped() {
        let event = OutputTestEvents.event("{}", sourcetype: "collector:a very long sourcetype name here", id: #"a"b\c]d"#, host: "my host", time: 0)
        let text = format(event).0
        #expect(text.hasPrefix("<134>1 1970-01-01T00:00:00.000000Z my_host pomona - collector:a_very_long_sourcetype ["), "MSGID is cut to 32 characters")
        #expect(text.contains(#"[pomona@32473 id="a\"b\\c\]d"]"#))
        let noHost = format(OutputTestEvents.event("{}", host: "")).0
        #expect(noHost.contains("Z - pomona - osquery:result"))
        var plain = formatter
        plain.structuredDataID = ""
        #expect(format(OutputTestEvents.event("{}"), plain).0.hasSuffix("osquery:result - {}"))
    }

    @Test func priorityFromFacilityAndSeverity() {
        var custom = formatter
        custom.facility = 4
        custom.severity = 2
        #expect(format(OutputTestEvents.event("{}"), custom).0.hasPrefix("<34>1 "))
    }

    @Test func truncationCutsAtAUTF8BoundaryAndIsReported() {
        var capped = formatter
        capped.maxMessageBytes = 100
        let event = OutputTestEvents.event("{\"v\":\"" + String(repeating: "é", count: 200) + "\"}")
        var buffer = ByteBuffer()
        #expect(capped.append(event, to: &buffer))
        #expect(buffer.readableBytes <= 100 && buffer.readableBytes >= 99)
        #expect(String(validating: buffer.readableBytesView, as: UTF8.self) != nil, "no half character")
        #expect(format(OutputTestEvents.event("{}"), capped).1 == false)
    }

    @Test func rawLineBreaksBecomeSpaces() {
        #expect(format(OutputTestEvents.event("{\n\"a\":1\r\n}")).0.hasSuffix("{ \"a\":1  }"))
    }
}
