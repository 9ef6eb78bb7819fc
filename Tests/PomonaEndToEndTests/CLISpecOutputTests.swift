import Foundation
import PomonaCore
import Testing

@testable import PomonaCLI

/// Pure pieces of the CLI: tables, the SSE parser, the live-query progress line, the context file.
@Suite struct CLISpecOutputTests {
    @Test func tableAlignsColumnsAndFlattensCells() {
        let table = TextTable(
            headers: ["id", "hostname", "query"],
            rows: [["1", "mac-1", "SELECT *\nFROM time"], ["12", "a-much-longer-host", String(repeating: "x", count: 80)]],
            maxCellWidth: 20)
        let lines = table.rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "ID  HOSTNAME            QUERY")
        #expect(lines[1] == "1   mac-1               SELECT * FROM time")
        #expect(lines[2] == "12  a-much-longer-host  " + String(repeating: "x", count: 19) + "…")
        #expect(lines[3] == "")
        #expect(lines.count == 4)
    }

    @Test func tableWithNoRowsPrintsTheHeader() {
        #expect(TextTable(headers: ["name", "interval"]).rendered == "NAME  INTERVAL\n")
    }

    @Test func cellTextOfValues() {
        #expect(CellText.of(.bool(true)) == "yes")
        #expect(CellText.of(.array([.string("a"), .string("b")])) == "a,b")
        #expect(CellText.of(nil) == "")
        #expect(CellText.time(.string("2026-11-30T00:12:05Z")) == "2026-11-30 00:12:05")
        #expect(CellText.time(.string("0001-01-01T00:00:00Z")) == "never")
    }

    @Test func keyValueListingFlattensNestedObjects() {
        let value = JSONValue.object([
            ("id", .number("3")), ("issues", .object([("failing_policies_count", .number("1"))])),
            ("software", .array([.object([("name", .string("x"))])])),
        ])
        #expect(KeyValueListing.render(value) == "id:                            3\nissues.failing_policies_count: 1\nsoftware:                      1 item\n")
    }

    @Test func serverSentEventsAcrossChunkBoundaries() {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        let stream = ": keep-alive\n\nevent: totals\ndata: {\"online\": 2}\n\nevent: result\r\ndata: {\"a\":\r\ndata: 1}\r\nid: 7\r\n\r\ndata: plain\n\n"
        // Feed one byte at a time: every boundary is a chunk boundary somewhere.
        for byte in Array(stream.utf8) { events += parser.feed([byte]) }
        #expect(
            events == [
                ServerSentEvent(event: "totals", data: "{\"online\": 2}", id: nil),
                ServerSentEvent(event: "result", data: "{\"a\":\n1}", id: "7"),
                ServerSentEvent(event: "message", data: "plain", id: "7"),
            ])
    }

    @Test func progressLineAndCompletion() throws {
        var progress = LiveQueryProgress()
        #expect(!progress.complete)
        progress.applyTotals(try JSONValue.parse(Array(#"{"count": 3, "online": 2, "offline": 1, "missing_in_action": 0}"#.utf8)))
        #expect(progress.line == "0% responded | 0/2 online hosts (3 targeted)")
        let first = progress.applyResult(hostID: 5, failed: false)
        let resent = progress.applyResult(hostID: 5, failed: false)
        #expect(first)
        #expect(!resent)
        #expect(progress.line == "50% responded | 1/2 online hosts (3 targeted)")
        #expect(!progress.complete)
        let failed = progress.applyResult(hostID: 9, failed: true)
        #expect(failed)
        #expect(progress.line == "100% responded | 2/2 online hosts (3 targeted) | 1 error")
        #expect(progress.complete)
    }

    @Test func statusFinishedCompletesTheCampaign() throws {
        var progress = LiveQueryProgress()
        progress.applyStatus(try JSONValue.parse(Array(#"{"expected_results": 4, "actual_results": 1, "status": "pending"}"#.utf8)))
        #expect(progress.online == 4)
        #expect(!progress.complete)
        progress.applyStatus(try JSONValue.parse(Array(#"{"status": "finished"}"#.utf8)))
        #expect(progress.complete)
    }

    @Test func resultLinesCarryHostAndRows() throws {
        let result = try JSONValue.parse(
            Array(#"{"distributed_query_execution_id": 3, "host": {"id": 4, "hostname": "h4", "display_name": "h4"}, "rows": [{"a": "1"}], "error": null}"#.utf8))
        #expect(String(decoding: LiveQueryOutput.line(for: result).encoded(), as: UTF8.self) == #"{"host":"h4","host_id":4,"rows":[{"a":"1"}]}"#)
        let failed = try JSONValue.parse(Array(#"{"host": {"id": 5, "hostname": "h5"}, "rows": [], "error": "no such table: foo"}"#.utf8))
        #expect(String(decoding: LiveQueryOutput.line(for: failed).encoded(), as: UTF8.self) == #"{"host":"h5","host_id":5,"rows":[],"error":"no such table: foo"}"#)
    }

    @Test(arguments: [("30s", 30.0), ("5m", 300), ("1h", 3600), ("1m30s", 90), ("45", 45)])
    func timeouts(text: String, seconds: Double) {
        #expect(QueryCommand.seconds(text) == seconds)
    }

    @Test(arguments: ["", "abc", "5x", "s", "-3"])
    func badTimeouts(text: String) {
        #expect(QueryCommand.seconds(text) == nil)
    }

    @Test func configPathPrecedence() {
        #expect(CLIConfigFile.path(override: "/o.yml", environment: ["POMONA_CLI_CONFIG": "/e.yml"], home: "/h") == "/o.yml")
        #expect(CLIConfigFile.path(override: nil, environment: ["POMONA_CLI_CONFIG": "/e.yml", "XDG_CONFIG_HOME": "/x"], home: "/h") == "/e.yml")
        #expect(CLIConfigFile.path(override: nil, environment: ["XDG_CONFIG_HOME": "/x"], home: "/h") == "/x/pomona/config.yml")
        // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
        #expect(CLIConfigFile.path(override: nil, environment: ["XDG_CONFIG_HOME": "rel"], home: "/h") == "/h/.config/pomona/config.yml")
        #expect(CLIConfigFile.path(override: nil, environment: [:], home: "/h") == "/h/.config/pomona/config.yml")
    }

    @Test func configFileIsPrivateAndRoundTrips() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-cli-\(UUID().uuidString)/nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let path = directory.appendingPathComponent("config.yml").path
        let file = CLIConfigFile(
            currentContext: "prod",
            contexts: [
                "prod": CLIContext(address: "https://pomona.example:9443", email: "a@b.c", token: "t0k", rootca: "/etc/ca.pem"),
                "lab": CLIContext(address: "https://127.0.0.1:9443", tlsSkipVerify: true),
            ])
        try file.save(path: path)
        #expect(try CLIConfigFile.load(path: path) == file)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((directoryAttributes[.posixPermissions] as? Int) == 0o700)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("current_context: prod"))
        #expect(text.contains("tls-skip-verify: true"))
    }

    @Test func missingConfigFileIsEmptyAndBrokenOneIsAnError() throws {
        #expect(try CLIConfigFile.load(path: "/nonexistent/pomona/config.yml") == CLIConfigFile())
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-cli-broken-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "contexts: [1, 2".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CLIError.self) { try CLIConfigFile.load(path: path) }
    }

    @Test func addressesAreNormalised() {
        #expect(CLIContext.normalizedAddress("127.0.0.1:9443") == "https://127.0.0.1:9443")
        #expect(CLIContext.normalizedAddress("https://pomona.example:9443/") == "https://pomona.example:9443")
    }
}
