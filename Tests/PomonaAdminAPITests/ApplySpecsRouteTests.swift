import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAdminAPI

/// `POST /api/v1/pomona/spec`: all kinds of an apply in one transaction.
@Suite struct ApplySpecsRouteTests {
    static let path = "/api/v1/pomona/spec"

    @Test func aQueryAndThePackNamingItGoInTogether() async throws {
        let h = try await AdminTestHarness()
        try await h.application.test(.router) { client in
            let body = #"""
                {"queries": [{"name": "usb", "query": "SELECT * FROM usb_devices;"}],
                 "packs": [{"name": "hardware", "queries": [{"query": "usb", "interval": 600}]}],
                 "labels": [{"name": "macs", "query": "SELECT 1 FROM os_version WHERE platform = 'darwin';"}],
                 "policies": [{"name": "sip on", "query": "SELECT 1 FROM sip_config WHERE config_flag = 'sip' AND enabled = 1;", "platform": "darwin"}]}
                """#
            let response = try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: body)
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(response.json["applied"]?["packs"]?.intValue == 1)
            #expect(try await h.store.savedQueries().map(\.name) == ["usb"])
            #expect(try await h.store.packSpecs().first?.queries.first?.query == "usb")
            #expect(try await h.store.labelSpecs().contains { $0.spec.name == "macs" })
            #expect(try await h.store.policies().map(\.name) == ["sip on"])
            let types = try await h.store.activities(ListPage(sort: .id, limit: 100)).map(\.type)
            #expect(types == ["applied_spec_saved_query", "applied_spec_label", "applied_spec_policy", "applied_spec_pack"])
        }
    }

    /// The store refuses the last kind (a manual label naming a host that does not exist): the
    /// queries and packs before it must not stay behind.
    @Test func aRefusedKindLeavesNothingOfTheOthers() async throws {
        let h = try await AdminTestHarness()
        try await h.addHost("mac-1")
        try await h.application.test(.router) { client in
            let generation = try await h.store.configGeneration()
            let body = #"""
                {"queries": [{"name": "usb", "query": "SELECT * FROM usb_devices;"}],
                 "packs": [{"name": "hardware", "queries": [{"query": "usb", "interval": 600}]}],
                 "labels": [{"name": "pilot", "label_membership_type": "manual", "hosts": ["mac-1", "no-such-host"]}]}
                """#
            let response = try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: body)
            #expect(response.status == .notFound, "\(String(buffer: response.body))")
            #expect(String(buffer: response.body).contains("no-such-host"))
            #expect(try await h.store.savedQueries().isEmpty)
            #expect(try await h.store.packSpecs().isEmpty)
            #expect(try await !h.store.labelSpecs().contains { $0.spec.name == "pilot" })
            #expect(try await h.store.configGeneration() == generation, "agents were not told about a change that did not happen")
            #expect(try await h.store.activities(ListPage(sort: .id, limit: 100)).isEmpty)
        }
    }

    @Test func dryRunChecksEverythingAndChangesNothing() async throws {
        let h = try await AdminTestHarness()
        try await h.application.test(.router) { client in
            let good = #"{"queries": [{"name": "usb", "query": "SELECT * FROM usb_devices;"}], "enroll_secret": {"secrets": [{"secret": "a-brand-new-secret-0123"}]}}"#
            let checked = try await client.call(.post, Self.path + "?dry_run=true", token: h.tokens[.admin], body: good)
            #expect(checked.status == .ok)
            #expect(checked.json["dry_run"] == .bool(true))
            #expect(try await h.store.savedQueries().isEmpty)
            #expect(try await !h.store.enrollSecrets().map(\.secret).contains("a-brand-new-secret-0123"))
            // A pack naming a query that exists nowhere is only found by the store: the dry run finds it too.
            let bad = #"{"packs": [{"name": "p", "queries": [{"query": "missing", "interval": 60}]}]}"#
            let refused = try await client.call(.post, Self.path + "?dry_run=true", token: h.tokens[.admin], body: bad)
            #expect(refused.status == .notFound)
            #expect(String(buffer: refused.body).contains("missing"))
        }
    }

    @Test func errorsNameTheKindIndexAndField() async throws {
        let h = try await AdminTestHarness()
        try await h.application.test(.router) { client in
            let cases: [(String, String)] = [
                (#"{"packs": [{"name": "p", "queries": [{"query": "q", "interval": 0}]}]}"#, "packs[0].queries[0].interval"),
                (#"{"queries": [{"name": "a", "query": "SELECT 1;"}, {"name": "b", "query": "SELECT * FROM no_such_table;"}]}"#, "queries[1].query"),
                (#"{"queries": [{"name": "a", "query": "SELECT 1;"}, {"name": "a", "query": "SELECT 2;"}]}"#, "queries[1].name"),
                (#"{"labels": [{"name": "x", "label_membership_type": "static"}]}"#, "labels[0].label_membership_type"),
                (#"{"enroll_secret": {"secrets": [{"secret": "short"}]}}"#, "enroll_secret.secrets[0].secret"),
                (#"{"config": {"agent_options": {"config": {"options": {"no_such_flag": 1}}}}}"#, "config.agent_options"),
                (#"{"config": {"colour": {}}}"#, "config.colour"),
                (#"{"teams": []}"#, "teams"),
                (#"{"policies": [{"name": "p"}]}"#, "policies[0].query"),
            ]
            for (body, field) in cases {
                let response = try await client.call(.post, Self.path, token: h.tokens[.admin], body: body)
                #expect(response.status == .unprocessableContent, "\(body): \(response.status)")
                #expect(response.firstError?.name == field, "\(body): \(String(buffer: response.body))")
            }
            #expect(try await h.store.savedQueries().isEmpty)
        }
    }

    @Test func configAndEnrollSecretsNeedAnAdmin() async throws {
        let h = try await AdminTestHarness()
        try await h.application.test(.router) { client in
            let secrets = #"{"enroll_secret": {"secrets": [{"secret": "a-brand-new-secret-0123"}]}}"#
            #expect(try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: secrets).status == .forbidden)
            let config = #"{"config": {"org_info": {"org_name": "Acme"}}}"#
            #expect(try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: config).status == .forbidden)
            #expect(try await client.call(.post, Self.path, token: h.tokens[.admin], body: config).status == .ok)
            let stored = try await client.call(.get, "/api/v1/fleet/config", token: h.tokens[.observer])
            #expect(stored.json["org_info"]?["org_name"] == .string("Acme"))
            let applied = try await client.call(.post, Self.path, token: h.tokens[.admin], body: secrets)
            #expect(applied.status == .ok)
            #expect(try await h.store.enrollSecrets().map(\.secret) == ["a-brand-new-secret-0123"], "the listed set replaces the active secrets")
        }
    }

    @Test func packTargetsRoundTripByLabelName() async throws {
        let h = try await AdminTestHarness()
        try await h.application.test(.router) { client in
            let body = #"""
                {"queries": [{"name": "usb", "query": "SELECT * FROM usb_devices;"}],
                 "labels": [{"name": "pilot", "query": "SELECT 1;"}],
                 "packs": [{"name": "hardware", "targets": {"labels": ["pilot"], "teams": []}, "queries": [{"query": "usb", "interval": 600}]}]}
                """#
            #expect(try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: body).status == .ok)
            let specs = try await client.call(.get, "/api/v1/fleet/spec/packs", token: h.tokens[.observer])
            #expect(specs.json["specs"]?.arrayValue?.first?["targets"]?["labels"] == .array([.string("pilot")]))
            let packs = try await client.call(.get, "/api/v1/fleet/packs", token: h.tokens[.observer])
            let labelID = try #require(try await h.store.label(named: "pilot")?.id)
            #expect(packs.json["packs"]?.arrayValue?.first?["label_ids"] == .array([.int(labelID)]))

            let unknown = #"{"packs": [{"name": "hardware", "targets": {"labels": ["nobody"]}, "queries": []}]}"#
            let refused = try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: unknown)
            #expect(refused.status == .notFound && String(buffer: refused.body).contains("nobody"))
            let teams = #"{"packs": [{"name": "hardware", "targets": {"labels": [], "teams": ["blue"]}}]}"#
            #expect(try await client.call(.post, Self.path, token: h.tokens[.maintainer], body: teams).firstError?.name == "packs[0].targets.teams")
            #expect(try await h.store.packSpecs().first?.targetLabels == ["pilot"], "the refused applies changed nothing")
        }
    }
}
