import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import PomonaStore
import Synchronization
import Testing
@testable import PomonaAdminAPI

@Suite struct HostRoutesTests {
    /// Five hosts: two online macs, an offline ubuntu box, a missing windows box, and a new linux one.
    static func fleet() async throws -> (AdminTestHarness, [String: Int64]) {
        let harness = try await AdminTestHarness()
        let now = harness.now
        let old = now.addingTimeInterval(-40 * 86400)
        var ids: [String: Int64] = [:]
        ids["mac-a"] = try await harness.addHost("mac-a", platform: "darwin", serial: "C02AAA", ip: "10.1.0.5", createdAt: old, seenAt: now)
        ids["mac-b"] = try await harness.addHost("mac-b", platform: "darwin", serial: "C02BBB", ip: "10.1.0.6", createdAt: old, seenAt: now.addingTimeInterval(-20))
        ids["ubu-1"] = try await harness.addHost("ubu-1", platform: "ubuntu", ip: "10.2.0.7", createdAt: old, seenAt: now.addingTimeInterval(-3600))
        ids["win-1"] = try await harness.addHost("win-1", platform: "windows", ip: "172.16.0.9", createdAt: old, seenAt: old)
        ids["new-rhel"] = try await harness.addHost("new-rhel", platform: "rhel", ip: "10.3.0.1", createdAt: now.addingTimeInterval(-600), seenAt: now)
        return (harness, ids)
    }

    static func names(_ client: some TestClientProtocol, _ token: String?, _ query: String) async throws -> [String] {
        let response = try await client.call(.get, "/api/v1/fleet/hosts?\(query)", token: token)
        #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
        return hostnames(response)
    }

    static func hostnames(_ response: AdminResponse) -> [String] {
        response.json["hosts"]?.arrayValue?.compactMap { $0["hostname"]?.stringValue } ?? []
    }

    @Test func listFiltersByStatusPlatformAndQuery() async throws {
        let (harness, _) = try await Self.fleet()
        let token = harness.tokens[.observer]
        try await harness.application.test(.router) { client in
            let all = try await Self.names(client, token, "")
            #expect(all == ["mac-a", "mac-b", "new-rhel", "ubu-1", "win-1"])
            #expect(try await Self.names(client, token, "status=online") == ["mac-a", "mac-b", "new-rhel"])
            #expect(try await Self.names(client, token, "status=offline") == ["ubu-1"])
            #expect(try await Self.names(client, token, "status=missing") == ["win-1"])
            #expect(try await Self.names(client, token, "status=mia") == ["win-1"])
            #expect(try await Self.names(client, token, "status=new") == ["new-rhel"])
            #expect(try await Self.names(client, token, "platform=darwin") == ["mac-a", "mac-b"])
            #expect(try await Self.names(client, token, "platform=linux") == ["new-rhel", "ubu-1"], "a family matches its distributions")
            #expect(try await Self.names(client, token, "platform=ubuntu") == ["ubu-1"])
            #expect(try await Self.names(client, token, "platform=linux&status=online") == ["new-rhel"])
            #expect(try await Self.names(client, token, "query=C02B") == ["mac-b"], "serial")
            #expect(try await Self.names(client, token, "query=UUID-ubu") == ["ubu-1"], "uuid")
            #expect(try await Self.names(client, token, "query=10.1.") == ["mac-a", "mac-b"], "IP prefix")
            #expect(try await Self.names(client, token, "query=172.16") == ["win-1"])
            #expect(try await Self.names(client, token, "query=%25") == [], "LIKE wildcards are literal")
            #expect(try await Self.names(client, token, "query=mac&order_key=hostname&order_direction=desc") == ["mac-b", "mac-a"])
        }
    }

    @Test func paginationIsStableAndCapped() async throws {
        let harness = try await AdminTestHarness()
        for i in 0..<23 { try await harness.addHost(String(format: "h%02d", i)) }
        try await harness.application.test(.router) { client in
            var seen: [String] = []
            for page in 0..<3 {
                let response = try await client.call(.get, "/api/v1/fleet/hosts?per_page=10&page=\(page)", token: harness.tokens[.observer])
                seen += Self.hostnames(response)
                #expect(response.json["meta"]?["has_next_results"] == .bool(page < 2))
                #expect(response.json["meta"]?["has_previous_results"] == .bool(page > 0))
            }
            #expect(seen == (0..<23).map { String(format: "h%02d", $0) })
            let big = try await client.call(.get, "/api/v1/fleet/hosts?per_page=100000", token: harness.tokens[.observer])
            #expect(big.status == .ok)
            #expect(ListPaging.maxPerPage == 500)
            let byID = try await client.call(.get, "/api/v1/fleet/hosts?order_key=id&order_direction=desc&per_page=2", token: harness.tokens[.observer])
            #expect(Self.hostnames(byID) == ["h22", "h21"])
        }
    }

    @Test func badListParametersNameTheField() async throws {
        let (harness, _) = try await Self.fleet()
        try await harness.application.test(.router) { client in
            for (query, field) in [
                ("order_key=hostname;DROP%20TABLE%20hosts", "order_key"), ("order_key=vitals", "order_key"),
                ("order_direction=sideways", "order_direction"), ("page=-1", "page"), ("per_page=0", "per_page"),
                ("per_page=abc", "per_page"), ("status=sleepy", "status"), ("label_id=1%20OR%201=1", "label_id"),
                ("platform=darwin'%20OR%20'1'='1", "platform"),
            ] {
                let response = try await client.call(.get, "/api/v1/fleet/hosts?\(query)", token: harness.tokens[.observer])
                #expect(response.status == .unprocessableContent, "\(query)")
                #expect(response.firstError?.name == field, "\(query): \(String(describing: response.firstError))")
            }
            // An injection attempt in free text is just text: no match, table intact.
            let injected = try await client.call(.get, "/api/v1/fleet/hosts?query=x'%20OR%20'1'='1", token: harness.tokens[.observer])
            #expect(injected.status == .ok)
            #expect(Self.hostnames(injected).isEmpty)
            #expect(try await harness.store.hostCount() == 5)
        }
    }

    @Test func countAndSummary() async throws {
        let (harness, _) = try await Self.fleet()
        try await harness.application.test(.router) { client in
            let token = harness.tokens[.observer]
            #expect(try await client.call(.get, "/api/v1/fleet/hosts/count", token: token).json["count"]?.intValue == 5)
            #expect(try await client.call(.get, "/api/v1/fleet/hosts/count?status=online", token: token).json["count"]?.intValue == 3)
            #expect(try await client.call(.get, "/api/v1/fleet/hosts/count?platform=linux&query=ubu", token: token).json["count"]?.intValue == 1)
            let summary = try await client.call(.get, "/api/v1/fleet/host_summary", token: token).json
            #expect(summary["totals_hosts_count"]?.intValue == 5)
            #expect(summary["online_count"]?.intValue == 3)
            #expect(summary["offline_count"]?.intValue == 1)
            #expect(summary["missing_30_days_count"]?.intValue == 1)
            #expect(summary["new_count"]?.intValue == 1)
            let platforms = summary["platforms"]?.arrayValue?.compactMap { p in p["platform"]?.stringValue.map { ($0, p["hosts_count"]?.intValue ?? 0) } }
            #expect(platforms?.first(where: { $0.0 == "darwin" })?.1 == 2)
            let linuxOnly = try await client.call(.get, "/api/v1/fleet/host_summary?platform=linux", token: token).json
            #expect(linuxOnly["totals_hosts_count"]?.intValue == 2)
            #expect(linuxOnly["online_count"]?.intValue == 1)
        }
    }

    @Test func oneHostByIDAndByIdentifier() async throws {
        let (harness, ids) = try await Self.fleet()
        let id = try #require(ids["mac-a"])
        // Seeded as the agent API records detail results (the first software row gets id 1).
        try await harness.writer.write([
            .detail(hostID: id, outcome: .software([SoftwareItem(name: "Safari", version: "17.1", source: "apps")]), at: harness.now),
            .detail(hostID: id, outcome: .users([HostUser(uid: 501, username: "ada", type: "", groupname: "", shell: "")]), at: harness.now),
        ])
        try await harness.application.test(.router) { client in
            let token = harness.tokens[.observer]
            let host = try await client.call(.get, "/api/v1/fleet/hosts/\(id)", token: token).json["host"]
            #expect(host?["hostname"]?.stringValue == "mac-a")
            #expect(host?["status"]?.stringValue == "online")
            #expect(host?["hardware_serial"]?.stringValue == "C02AAA")
            #expect(host?["primary_ip"]?.stringValue == "10.1.0.5")
            #expect(host?["software"]?.arrayValue?.first?["name"]?.stringValue == "Safari")
            #expect(host?["users"]?.arrayValue?.first?["username"]?.stringValue == "ada")
            for identifier in ["UUID-mac-a", "mac-a", "C02AAA", "osq-mac-a"] {
                let found = try await client.call(.get, "/api/v1/fleet/hosts/identifier/\(identifier)", token: token)
                #expect(found.json["host"]?["id"]?.intValue == Int(id), "\(identifier)")
            }
            #expect(try await client.call(.get, "/api/v1/fleet/hosts/identifier/nope", token: token).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/fleet/hosts/999", token: token).status == .notFound)
            let notANumber = try await client.call(.get, "/api/v1/fleet/hosts/abc", token: token)
            #expect(notANumber.status == .unprocessableContent)
            let software = try await client.call(.get, "/api/v1/fleet/hosts/\(id)/software", token: token).json
            #expect(software["software"]?.arrayValue?.count == 1)
            let inventory = try await client.call(.get, "/api/v1/fleet/software", token: token).json
            #expect(inventory["software"]?.arrayValue?.first?["hosts_count"]?.intValue == 1)
            #expect(try await client.call(.get, "/api/v1/fleet/software/1", token: token).json["software"]?["name"]?.stringValue == "Safari")
        }
    }

    @Test func nodeKeyIdentifierFindsTheHostByDigest() async throws {
        let harness = try await AdminTestHarness()
        let nodeKey = "a-node-key-the-agent-holds"
        var vitals = HostVitals()
        vitals.hostname = "keyed"
        // The agent API keeps SHA-256(node key); BearerToken.digest is the same function in hex.
        let digest = try #require(NodeKeyDigest(hex: BearerToken.digest(nodeKey)))
        let outcome = try await harness.store.enroll(
            EnrollmentRecord(osqueryHostID: "x", nodeKeyDigest: digest, enrollSecretID: 1, vitals: vitals, remoteIP: "", now: Date()))
        try await harness.application.test(.router) { client in
            let found = try await client.call(.get, "/api/v1/fleet/hosts/identifier/\(nodeKey)", token: harness.tokens[.observer])
            #expect(found.json["host"]?["id"]?.intValue == Int(outcome.hostID))
        }
    }

    @Test func deleteAndRefetch() async throws {
        let (harness, ids) = try await Self.fleet()
        try await harness.application.test(.router) { client in
            let maintainer = harness.tokens[.maintainer]
            let macA = try #require(ids["mac-a"])
            #expect(try await client.call(.delete, "/api/v1/fleet/hosts/\(macA)", token: maintainer).status == .ok)
            #expect(harness.registry.host(id: macA) == nil, "its node key must stop working")
            #expect(try await harness.store.host(id: macA) == nil)

            let refused = try await client.call(.post, "/api/v1/fleet/hosts/delete", token: maintainer, body: #"{"filters":{}}"#)
            #expect(refused.status == .unprocessableContent)
            let byFilter = try await client.call(.post, "/api/v1/fleet/hosts/delete", token: maintainer, body: #"{"filters":{"status":"missing"}}"#)
            #expect(byFilter.json["deleted"]?.intValue == 1)
            let byIDs = try await client.call(
                .post, "/api/v1/fleet/hosts/delete", token: maintainer, body: #"{"ids":[\#(ids["ubu-1"]!), 424242]}"#)
            #expect(byIDs.json["deleted"]?.intValue == 1)
            #expect(try await harness.store.hostCount() == 2)

            let macB = try #require(ids["mac-b"])
            // Fresh details clear a pending refetch, as a host answering its detail queries does.
            try await harness.writer.write(.detailsRefreshed(hostID: macB, at: harness.now))
            #expect(try await harness.store.host(id: macB)?.refetchRequested == false)
            #expect(try await client.call(.post, "/api/v1/fleet/hosts/\(macB)/refetch", token: harness.tokens[.observer]).status == .ok)
            #expect(harness.registry.host(id: macB)?.refetchRequested == true)
            #expect(try await harness.store.host(id: macB)?.refetchRequested == true)

            let types = try await client.call(.get, "/api/v1/fleet/activities", token: maintainer).json["activities"]?.arrayValue?
                .compactMap { $0["type"]?.stringValue } ?? []
            #expect(Array(types.prefix(4)) == ["refetched_host", "deleted_host", "deleted_host", "deleted_host"])
            let actors = try await client.call(.get, "/api/v1/fleet/activities", token: maintainer).json["activities"]?.arrayValue?
                .compactMap { $0["actor_email"]?.stringValue } ?? []
            #expect(actors.contains("maintainer@example.com"))
        }
    }
}
