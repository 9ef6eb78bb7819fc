import NIOCore
import PomonaCore
import Yams

@testable import PomonaPipeline

/// Host facts from a dictionary, for enrichment tests.
struct FixedHostFacts: HostFactsProvider {
    var byID: [Int64: HostFacts] = [:]
    var byIdentifier: [String: HostFacts] = [:]

    func facts(hostID: Int64) -> HostFacts? { byID[hostID] }
    func facts(identifier: String) -> HostFacts? { byIdentifier[identifier] }

    static let web01 = HostFacts(
        id: 7, hostname: "web-01.example.com", uuid: "4C4C4544-0001", hardwareSerial: "SN123", platform: "ubuntu",
        osVersion: "22.04.4 LTS", primaryIP: "10.0.0.5", primaryMAC: "52:54:00:12:34:56", loggedInUser: "alice",
        labels: ["All Hosts", "Linux \"servers\""])
}

func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }
func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

/// Parses JSON text for comparisons that ignore key order and spacing.
func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }
func json(_ buffer: ByteBuffer) throws -> JSONValue { try JSONValue.parse(Array(buffer.readableBytesView)) }

func draft(_ text: String, sourcetype: String = "osquery:result", input: String = "osquery") -> EventDraft {
    EventDraft(body: ByteBuffer(string: text), sourcetype: sourcetype, input: input)
}

func decode<T: Decodable>(_ type: T.Type, _ yaml: String) throws -> T {
    try YAMLDecoder().decode(T.self, from: yaml)
}

/// The one-line message `describeConfigurationError` gives for `yaml`, or nil if it decodes.
func configurationError<T: Decodable>(_ type: T.Type, _ yaml: String) -> String? {
    do {
        _ = try YAMLDecoder().decode(T.self, from: yaml)
        return nil
    } catch {
        return describeConfigurationError(error)
    }
}

func spooled(_ body: String, sourcetype: String = "osquery:result", hostID: Int64? = 7, receivedAt: Double = 1_785_844_900,
             id: String = "seg1:0:0", input: String = "osquery") -> SpooledEvent {
    SpooledEvent(input: input, sourcetype: sourcetype, hostID: hostID, receivedAt: receivedAt, id: id, body: ByteBuffer(string: body))
}

/// An osquery event-format line.
func resultLine(name: String = "pack_it_processes", host: String = "web-01", unixTime: Int = 1_785_844_801,
                columns: String = #"{"name":"sshd","pid":"812"}"#) -> String {
    #"{"name":"\#(name)","hostIdentifier":"\#(host)","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":\#(unixTime),"epoch":0,"counter":3,"numerics":false,"decorations":{"host_uuid":"4C4C","hostname":"web-01.example.com"},"columns":\#(columns),"action":"added"}"#
}
func json(_ bytes: [UInt8]) throws -> JSONValue { try JSONValue.parse(bytes) }
