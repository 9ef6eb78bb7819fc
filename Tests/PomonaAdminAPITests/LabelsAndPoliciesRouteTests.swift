import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAdminAPI

/// `/labels` and `/global/policies` in process, including what reaches the check-in path.
@Suite struct LabelsAndPoliciesRouteTests {
    @Test func dynamicAndManualLabels() async throws {
        let h = try await AdminTestHarness()
        let token = h.tokens[.maintainer]!
        let h1 = try await h.addHost("alpha")
        let h2 = try await h.addHost("beta", platform: "ubuntu")
        try await h.application.test(.router) { client in
            let labels = try await client.call(.get, "/api/v1/fleet/labels", token: h.tokens[.observer]!)
            #expect(labels.json["labels"]?.arrayValue?.first?["label_type"] == .string("builtin"))

            let dynamic = try await client.call(
                .post, "/api/v1/fleet/labels", token: token, body: #"{"name":"slack","query":"SELECT 1 FROM processes WHERE name = 'Slack';","platform":"darwin"}"#)
            #expect(dynamic.status == .ok)
            let dynamicID = try #require(dynamic.json["label"]?["id"]?.intValue)
            #expect(dynamic.json["label"]?["label_membership_type"] == .string("dynamic"))
            #expect(h.registry.evaluationQueries.labelQueries(for: .darwin).contains { $0.0 == "fleet_label_query_\(dynamicID)" })
            #expect(!h.registry.evaluationQueries.labelQueries(for: .linux).contains { $0.0 == "fleet_label_query_\(dynamicID)" })

            let manual = try await client.call(.post, "/api/v1/fleet/labels", token: token, body: #"{"name":"vip","hosts":["alpha"]}"#)
            let manualID = try #require(manual.json["label"]?["id"]?.intValue)
            #expect(manual.json["label"]?["label_membership_type"] == .string("manual"))
            #expect(manual.json["label"]?["host_count"]?.intValue == 1)
            let patched = try await client.call(.patch, "/api/v1/fleet/labels/\(manualID)", token: token, body: #"{"host_ids":[\#(h2)]}"#)
            #expect(patched.json["label"]?["host_count"]?.intValue == 1)
            let hosts = try await client.call(.get, "/api/v1/fleet/labels/\(manualID)/hosts", token: token)
            #expect(hosts.json["hosts"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [Int(h2)])
            #expect(try await h.store.hostIDs(inLabel: Int64(manualID)) == [h2])
            _ = h1

            // Errors name the field; built-ins are read-only; a dynamic label's query is fixed.
            #expect(try await client.call(.post, "/api/v1/fleet/labels", token: token, body: #"{"name":"bad","query":"SELECT * FROM nope_table;"}"#).firstError?.name == "query")
            #expect(try await client.call(.post, "/api/v1/fleet/labels", token: token, body: #"{"name":"ghost","hosts":["nobody"]}"#).firstError?.name == "hosts")
            #expect(try await client.call(.patch, "/api/v1/fleet/labels/\(dynamicID)", token: token, body: #"{"query":"SELECT 2;"}"#).firstError?.name == "query")
            #expect(try await client.call(.delete, "/api/v1/fleet/labels/All%20Hosts", token: token).status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v1/fleet/labels", token: h.tokens[.observer]!, body: #"{"name":"x","query":"SELECT 1;"}"#).status == .forbidden)

            #expect(try await client.call(.delete, "/api/v1/fleet/labels/id/\(dynamicID)", token: token).status == .ok)
            #expect(!h.registry.evaluationQueries.labelQueries(for: .darwin).contains { $0.0 == "fleet_label_query_\(dynamicID)" })
            #expect(try await client.call(.delete, "/api/v1/fleet/labels/vip", token: token).status == .ok)
        }
    }

    @Test func policiesWithCountsAndHostAnswers() async throws {
        let h = try await AdminTestHarness()
        let token = h.tokens[.maintainer]!
        let h1 = try await h.addHost("alpha")
        let h2 = try await h.addHost("beta")
        try await h.application.test(.router) { client in
            let created = try await client.call(
                .post, "/api/v1/fleet/global/policies", token: token,
                body: #"{"name":"Gatekeeper on","query":"SELECT 1 FROM gatekeeper WHERE assessments_enabled = 1;","platform":"darwin","critical":true,"resolution":"Turn it on"}"#)
            #expect(created.status == .ok)
            let id = Int64(try #require(created.json["policy"]?["id"]?.intValue))
            #expect(h.registry.evaluationQueries.policyQueries(for: .darwin).map(\.0) == ["fleet_policy_query_\(id)"])
            #expect(h.registry.evaluationQueries.policyQueries(for: .windows).isEmpty)

            let writer = StoreWriter(store: h.store, logger: Logger(label: "t"))
            try await writer.write([
                .fleet(.policies(hostID: h1, results: [(id, true)], at: Date())), .fleet(.policies(hostID: h2, results: [(id, false)], at: Date())),
            ])
            let listed = try await client.call(.get, "/api/v1/fleet/global/policies", token: h.tokens[.observer]!)
            let policy = listed.json["policies"]?.arrayValue?.first
            #expect(policy?["passing_host_count"]?.intValue == 1 && policy?["failing_host_count"]?.intValue == 1)
            #expect(policy?["critical"] == .bool(true))
            #expect(try await h.store.policies(forHost: h2).first?.json["response"] == .string("fail"))
            #expect(try await client.call(.get, "/api/v1/fleet/policies/count", token: token).json["count"]?.intValue == 1)

            let patched = try await client.call(.patch, "/api/v1/fleet/global/policies/\(id)", token: token, body: #"{"platform":"solaris"}"#)
            #expect(patched.firstError?.name == "platform")
            #expect(try await client.call(.post, "/api/v1/fleet/global/policies", token: token, body: #"{"name":"n","query":"SELEC 1"}"#).firstError?.name == "query")
            let deleted = try await client.call(.post, "/api/v1/fleet/global/policies/delete", token: token, body: #"{"ids":[\#(id)]}"#)
            #expect(deleted.json["deleted"]?.intValue == 1)
            #expect(h.registry.evaluationQueries.policyCount == 0)
        }
    }
}
