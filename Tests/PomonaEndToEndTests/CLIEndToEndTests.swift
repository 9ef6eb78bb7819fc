import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PomonaCore
import PomonaServer
import PomonaSimulator
import Testing

@testable import PomonaCLI

/// The `pomona` CLI as a subprocess against a real server over TLS: setup, login, apply, get,
/// delete, live query, debug, and the errors people meet.
@Suite(.serialized) struct CLIEndToEndTests {
    static let email = "admin@example.com"
    static let password = "correct-horse-42!"

    /// A server plus a CLI config already set up with an admin session.
    struct Fixture {
        let server: RunningServer
        let cli: CLIProcess
        var address: String { "https://127.0.0.1:\(server.addresses.adminPort)" }
        var caPath: String { server.server.tlsFiles.caCertificatePath!.path }

        static func start() async throws -> Fixture {
            #expect(FileManager.default.isExecutableFile(atPath: PomonaProcess.binary.path), "pomona binary at \(PomonaProcess.binary.path)")
            let fixture = Fixture(server: try await RunningServer.start(), cli: try CLIProcess())
            let setup = try await fixture.cli.run(
                ["setup", "--address", fixture.address, "--ca", fixture.caPath, "--email", email, "--name", "Admin"], stdin: password + "\n")
            try #require(setup.status == 0, "\(setup)")
            return fixture
        }

        func stop() async {
            await server.stop()
            cli.cleanUp()
        }

        func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws -> CLIProcess.Result {
            try await cli.run(arguments, stdin: stdin, environment: environment)
        }
    }

    static let specFile = """
        apiVersion: v1
        kind: query
        spec:
          name: osquery_info
          description: heartbeat
          query: SELECT * FROM osquery_info;
          interval: 3600
          automations_enabled: true
          logging: snapshot
        ---
        apiVersion: v1
        kind: query
        spec:
          name: usb_devices
          query: |
            SELECT vendor, model
            FROM usb_devices;
          interval: 600
          platform: darwin
        ---
        apiVersion: v1
        kind: label
        spec:
          name: has_osquery
          query: SELECT 1 FROM osquery_info;
        ---
        apiVersion: v1
        kind: policy
        spec:
          name: osquery running
          query: SELECT 1 FROM osquery_info;
          critical: true
        ---
        apiVersion: v1
        kind: config
        spec:
          org_info: {org_name: Example Security}
        """

    @Test func setupStoresAPrivateContextAndLoginLogoutWork() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.cli.configPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let stored = try CLIConfigFile.load(path: fixture.cli.configPath)
        #expect(stored.currentContext == "default")
        #expect(stored.contexts["default"]?.token?.isEmpty == false)
        #expect(stored.contexts["default"]?.rootca == fixture.caPath)

        let again = try await fixture.run(["setup", "--email", "other@example.com", "--name", "Other", "--password", Self.password])
        #expect(again.status != 0)
        #expect(again.stderr.contains("setup has already been done"), "\(again)")

        let logout = try await fixture.run(["logout"])
        #expect(logout.status == 0, "\(logout)")
        let loggedOut = try await fixture.run(["get", "hosts"])
        #expect(loggedOut.status != 0)
        #expect(loggedOut.stderr.contains("not logged in"), "\(loggedOut)")

        let wrong = try await fixture.run(["login", "--email", Self.email], stdin: "wrong-password-1!\n")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("login refused"), "\(wrong)")

        let login = try await fixture.run(["login", "--email", Self.email], stdin: Self.password + "\n")
        #expect(login.status == 0, "\(login)")
        #expect(login.stdout.contains("as \(Self.email) (admin)"), "\(login)")
        let hosts = try await fixture.run(["get", "hosts"])
        #expect(hosts.status == 0, "\(hosts)")
        #expect(hosts.stdout.hasPrefix("ID  HOSTNAME"), "\(hosts)")
    }

    @Test func applyIsIdempotentAndGetYAMLRoundTrips() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let specPath = try fixture.cli.file("spec.yml", Self.specFile)

        let first = try await fixture.run(["apply", "-f", specPath])
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.contains("query \"osquery_info\": created"), "\(first)")
        #expect(first.stdout.contains("label \"has_osquery\": created"), "\(first)")
        #expect(first.stdout.contains("policy \"osquery running\": created"), "\(first)")
        #expect(first.stdout.contains("config \"config\": updated (org_info)"), "\(first)")

        let second = try await fixture.run(["apply", "-f", specPath])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("Nothing to apply: 0 created, 0 updated, 5 unchanged"), "\(second)")

        // get --yaml writes files that apply accepts, and applying them changes nothing.
        for kind in ["queries", "labels", "policies", "config", "enroll-secrets"] {
            let exported = try await fixture.run(["get", kind, "--yaml"])
            #expect(exported.status == 0, "\(kind): \(exported)")
            let path = try fixture.cli.file("\(kind).yml", exported.stdout)
            let reapplied = try await fixture.run(["apply", "-f", path])
            #expect(reapplied.status == 0, "\(kind): \(reapplied)\n\(exported.stdout)")
            #expect(reapplied.stdout.contains("Nothing to apply"), "\(kind): \(reapplied)\n\(exported.stdout)")
        }

        let table = try await fixture.run(["get", "queries"])
        let row = table.stdout.split(separator: "\n").first { $0.hasPrefix("usb_devices ") }.map { $0.split(separator: " ").map(String.init) }
        #expect(row?.prefix(3) == ["usb_devices", "600", "darwin"], "\(table)")
        let one = try await fixture.run(["get", "query", "usb_devices", "--json"])
        let document = try JSONValue.parse(Array(one.stdout.utf8))
        #expect(document["spec"]?["query"]?.stringValue == "SELECT vendor, model\nFROM usb_devices;\n", "\(one)")

        // A change to one field is reported as such.
        let changed = try fixture.cli.file("changed.yml", Self.specFile.replacingOccurrences(of: "interval: 600", with: "interval: 300"))
        let update = try await fixture.run(["apply", "-f", changed])
        #expect(update.stdout.contains("query \"usb_devices\": updated (interval)"), "\(update)")
        #expect(update.stdout.contains("Applied: 0 created, 1 updated, 4 unchanged"), "\(update)")

        let delete = try await fixture.run(["delete", "query", "usb_devices"])
        #expect(delete.status == 0, "\(delete)")
        let after = try await fixture.run(["get", "queries", "--json"])
        #expect(!after.stdout.contains("usb_devices"), "\(after)")
        #expect(after.stdout.contains("osquery_info"), "\(after)")
    }

    @Test func malformedSpecNamesFileDocumentAndFieldAndAppliesNothing() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let bad = try fixture.cli.file(
            "bad.yml",
            """
            apiVersion: v1
            kind: query
            spec:
              name: would_be_created
              query: SELECT 1;
            ---
            apiVersion: v1
            kind: query
            spec:
              name: broken
              query: SELECT 2;
              interval: every hour
            """)
        let result = try await fixture.run(["apply", "-f", bad])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.yml: document 2 (line 12): spec.interval: must be a whole number"), "\(result)")
        #expect(result.stderr.contains("nothing was applied"), "\(result)")
        let queries = try await fixture.run(["get", "queries", "--json"])
        #expect(queries.status == 0, "\(queries)")
        #expect(!queries.stdout.contains("would_be_created"), "\(queries)")
    }

    /// A file whose last kind the server refuses (a manual label naming an unknown host, which only
    /// the store can tell) applies nothing at all: one request, one transaction.
    @Test func aRefusedDocumentLeavesNoOtherKindApplied() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let file = try fixture.cli.file(
            "mixed.yml",
            """
            apiVersion: v1
            kind: query
            spec:
              name: usb_devices
              query: SELECT * FROM usb_devices;
            ---
            apiVersion: v1
            kind: pack
            spec:
              name: hardware
              queries:
                - query: usb_devices
                  interval: 600
            ---
            apiVersion: v1
            kind: label
            spec:
              name: pilot
              label_membership_type: manual
              hosts: [no-such-host.example]
            """)
        let dry = try await fixture.run(["apply", "--dry-run", "-f", file])
        #expect(dry.status != 0, "the server's dry run finds the unknown host: \(dry)")
        #expect(dry.stderr.contains("no-such-host.example"), "\(dry)")
        let result = try await fixture.run(["apply", "-f", file])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no-such-host.example") && result.stderr.contains("nothing was applied"), "\(result)")
        let queries = try await fixture.run(["get", "queries", "--json"])
        #expect(queries.status == 0 && !queries.stdout.contains("usb_devices"), "\(queries)")
        let packs = try await fixture.run(["get", "packs", "--json"])
        #expect(packs.status == 0 && !packs.stdout.contains("hardware"), "\(packs)")
    }

    @Test func liveQueryStreamsOneLinePerHostAndExitsWhenAllAnswered() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        try await withAgentClient { client in
            let agents = try (0..<2).map { try fixture.server.agent(index: $0, platform: .linux) }
            for agent in agents {
                _ = try await agent.enroll()
                _ = try await agent.runDistributedOnce()  // detail queries: the host gets its hostname
            }
            // Targets by UUID, which the server knows from enrollment (hostnames come with the details).
            var names: [String] = []
            for agent in agents { names.append(await agent.profile.hardwareUUID) }
            let query = try fixture.cli.start([
                "query", "--hosts", names.joined(separator: ","), "--query", "SELECT * FROM osquery_info;", "--exit", "--timeout", "60s",
            ])
            // The agents poll as osqueryd would until the CLI has every answer.
            for _ in 0..<600 where query.isRunning {
                for agent in agents { _ = try await agent.runDistributedOnce() }
                try await Task.sleep(for: .milliseconds(100))
            }
            query.stop()
            let result = await query.wait()
            #expect(result.status == 0, "\(result)")
            let lines: [PomonaCore.JSONValue?] = result.stdout.split(separator: "\n").map { try? PomonaCore.JSONValue.parse(Array($0.utf8)) }
            #expect(lines.count == 2, "\(result)")
            #expect(Set(lines.compactMap { $0?["host_id"]?.intValue }).count == 2, "\(result)")
            for line in lines {
                #expect(line?["rows"]?.arrayValue?.isEmpty == false, "\(result)")
                #expect(line?["error"] == nil, "\(result)")
            }
            #expect(result.stderr.contains("100% responded | 2/2 online hosts"), "\(result)")
        }
    }

    @Test func errorsSayWhatToDo() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }

        let closedPort = try PomonaProcess.freePort()
        let unreachable = try await fixture.run(["get", "hosts", "--address", "https://127.0.0.1:\(closedPort)"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("server unreachable at https://127.0.0.1:\(closedPort)"), "\(unreachable)")
        #expect(unreachable.stderr.contains("pomona serve"), "\(unreachable)")

        let untrusted = try await fixture.run(["get", "hosts", "--context", "bare", "--address", fixture.address], environment: ["POMONA_API_TOKEN": "x"])
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.contains("TLS verification of \(fixture.address) failed"), "\(untrusted)")
        #expect(untrusted.stderr.contains("--ca"), "\(untrusted)")

        let revoked = try await fixture.run(["get", "hosts"], environment: ["POMONA_API_TOKEN": "not-a-valid-token"])
        #expect(revoked.status != 0)
        #expect(revoked.stderr.contains("your session expired or the token was revoked; run `pomona login`"), "\(revoked)")

        // An observer may read but not apply: the 403 names the role.
        let stored = try CLIConfigFile.load(path: fixture.cli.configPath).contexts["default"]!
        try await APIClient.with(stored) { api in
            _ = try await api.fleet(
                .POST, "/users/admin",
                body: .object([
                    ("name", .string("Olive")), ("email", .string("observer@example.com")), ("password", .string(Self.password)),
                    ("global_role", .string("observer")),
                ]))
        }
        let observerLogin = try await fixture.run(["login", "--context", "observer", "--address", fixture.address, "--ca", fixture.caPath, "--email", "observer@example.com"], stdin: Self.password + "\n")
        #expect(observerLogin.status == 0, "\(observerLogin)")
        let spec = try fixture.cli.file("one.yml", "apiVersion: v1\nkind: query\nspec:\n  name: q\n  query: SELECT 1;\n")
        let forbidden = try await fixture.run(["apply", "-f", spec, "--context", "observer"])
        #expect(forbidden.status != 0)
        #expect(forbidden.stderr.contains("permission denied: your role (observer)"), "\(forbidden)")
        let readable = try await fixture.run(["get", "hosts", "--context", "observer"])
        #expect(readable.status == 0, "\(readable)")
    }

    @Test func debugShowsServerState() async throws {
        let fixture = try await Fixture.start()
        defer { Task { await fixture.stop() } }
        let debug = try await fixture.run(["debug", "--integrity"])
        #expect(debug.status == 0, "\(debug)")
        #expect(debug.stdout.contains("uptime_seconds"), "\(debug)")
        #expect(debug.stdout.contains("database.size_bytes"), "\(debug)")
        #expect(debug.stdout.contains("database.integrity_check: ok"), "\(debug)")
        #expect(debug.stdout.contains("writer.queue_depth"), "\(debug)")
        let json = try await fixture.run(["debug", "--json"])
        let value = try JSONValue.parse(Array(json.stdout.utf8))
        #expect(value["debug"]?["database"]?["health"]?.stringValue == "ok", "\(json)")
    }
}
