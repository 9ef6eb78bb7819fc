import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAdminAPI

/// Every route that takes a host identifier resolves it the same way (`Datastore.resolveHostID`).
/// The probe's attack: a host enrolled with hostname = a victim's UUID received the live query
/// meant for the victim.
@Suite struct HostIdentifierRouteTests {
    @Test func aHostNamedAfterTheVictimsUUIDGetsNoneOfItsQueries() async throws {
        let h = try await AdminTestHarness()
        let victim = try await h.addHost("victim", uuid: "UUID-VICTIM", seenAt: h.now)
        let squatter = try await h.addHost("UUID-VICTIM", uuid: "UUID-SQUATTER", seenAt: h.now)
        let token = h.tokens[.admin]!
        try await h.application.test(.router) { client in
            let run = try await client.call(
                .post, "/api/v1/fleet/queries/run_by_identifiers", token: token,
                body: #"{"query":"SELECT 1;","selected":{"hosts":["UUID-VICTIM"]}}"#)
            #expect(run.status == .ok)
            let id = Int64(try #require(run.json["campaign"]?["id"]?.intValue))
            #expect(h.registry.liveQueries.snapshot(id: id)?.pendingHostIDs == [victim])
            #expect(h.registry.liveQueries.snapshot(id: id)?.pendingHostIDs.contains(squatter) == false)

            let found = try await client.call(.get, "/api/v1/fleet/hosts/identifier/UUID-VICTIM", token: token)
            #expect(found.json["host"]?["id"]?.intValue == Int(victim))

            let label = try await client.call(.post, "/api/v1/fleet/labels", token: token, body: #"{"name":"watched","hosts":["UUID-VICTIM"]}"#)
            #expect(label.status == .ok)
            let labelID = try #require(label.json["label"]?["id"]?.intValue)
            let members = try await client.call(.get, "/api/v1/fleet/labels/\(labelID)/hosts", token: token)
            #expect(members.json["hosts"]?.arrayValue?.compactMap { $0["id"]?.intValue } == [Int(victim)])
        }
    }

    @Test func anIdentifierTwoHostsShareIsRefusedNamingIt() async throws {
        let h = try await AdminTestHarness()
        try await h.addHost("clone-a", uuid: "CLONED", seenAt: h.now)
        try await h.addHost("clone-b", uuid: "CLONED", seenAt: h.now)
        let token = h.tokens[.admin]!
        try await h.application.test(.router) { client in
            for (method, path, body) in [
                (HTTPRequest.Method.post, "/api/v1/fleet/queries/run_by_identifiers", #"{"query":"SELECT 1;","selected":{"hosts":["CLONED"]}}"#),
                (.get, "/api/v1/fleet/hosts/identifier/CLONED", nil),
                (.post, "/api/v1/fleet/hosts/identifier/CLONED/query", #"{"query":"SELECT 1;"}"#),
                (.post, "/api/v1/fleet/labels", #"{"name":"clones","hosts":["CLONED"]}"#),
            ] {
                let response = try await client.call(method, path, token: token, body: body)
                #expect(response.status == .conflict, "\(path)")
                #expect(response.firstError?.reason == #"host identifier "CLONED" names 2 hosts (as uuid); name the host by its id"#, "\(path)")
            }
            #expect(h.registry.liveQueries.activeCount == 0)
            #expect(try await h.store.label(named: "clones") == nil, "nothing half-written")
        }
    }

    @Test func theGetFormPercentDecodesLikeThePostForm() async throws {
        let h = try await AdminTestHarness()
        let host = try await h.addHost("Ada's MacBook/Pro", seenAt: h.now)
        let token = h.tokens[.observer]!
        try await h.application.test(.router) { client in
            let found = try await client.call(.get, "/api/v1/fleet/hosts/identifier/Ada's%20MacBook%2FPro", token: token)
            #expect(found.status == .ok)
            #expect(found.json["host"]?["id"]?.intValue == Int(host))
            let broken = try await client.call(.get, "/api/v1/fleet/hosts/identifier/%zz", token: token)
            #expect(broken.status == .unprocessableContent)
            #expect(broken.firstError?.name == "identifier")
        }
    }
}
