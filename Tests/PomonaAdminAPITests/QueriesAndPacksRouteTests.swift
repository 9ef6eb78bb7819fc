import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import PomonaStore
import Testing

@testable import PomonaAdminAPI

/// `/queries`, `/packs`, `/packs/schedule` and `/global/schedule` in process.
@Suite struct QueriesAndPacksRouteTests {
    @Test func createListModifyDeleteQuery() async throws {
        let h = try await AdminTestHarness()
        let maintainer = h.tokens[.maintainer]!
        try await h.application.test(.router) { client in
            let generation = try await h.store.configGeneration()
            let created = try await client.call(
                .post, "/api/v1/fleet/queries", token: maintainer,
                body: #"{"name":"usb","query":"SELECT * FROM usb_devices;","interval":300,"platform":"darwin","logging":"differential","automations_enabled":true,"observer_can_run":true}"#)
            #expect(created.status == .ok)
            let query = created.json["query"]
            let id = try #require(query?["id"]?.intValue)
            #expect(query?["logging"] == .string("differential"))
            #expect(query?["author_email"] == .string("maintainer@example.com"))
            #expect(try await h.store.configGeneration() > generation, "agents get the new schedule")
            #expect(try await h.store.queries().map(\.name) == ["usb"])

            let list = try await client.call(.get, "/api/latest/fleet/queries?query=us", token: h.tokens[.observer]!)
            #expect(list.json["queries"]?.arrayValue?.count == 1)

            let patched = try await client.call(.patch, "/api/v1/fleet/queries/\(id)", token: maintainer, body: #"{"automations_enabled":false}"#)
            #expect(patched.json["query"]?["automations_enabled"] == .bool(false))
            #expect(try await h.store.queries().isEmpty)

            let schedule = try await client.call(.post, "/api/v1/fleet/global/schedule", token: maintainer, body: #"{"query_id":\#(id),"interval":60,"snapshot":true}"#)
            #expect(schedule.json["scheduled"]?["interval"]?.intValue == 60)
            let global = try await client.call(.get, "/api/v1/fleet/global/schedule", token: maintainer)
            #expect(global.json["global_schedule"]?.arrayValue?.first?["snapshot"] == .bool(true))
            #expect(try await h.store.queries().first?.logging == .snapshot)
            _ = try await client.call(.delete, "/api/v1/fleet/global/schedule/\(id)", token: maintainer)
            #expect(try await h.store.queries().isEmpty)

            let deleted = try await client.call(.delete, "/api/v1/fleet/queries/usb", token: maintainer)
            #expect(deleted.status == .ok)
            #expect(try await h.store.savedQueries().isEmpty)
            #expect(try await client.call(.delete, "/api/v1/fleet/queries/usb", token: maintainer).status == .notFound)
            let activities = try await h.store.activities(ListPage(sort: .id, limit: 100)).map(\.type)
            #expect(activities.contains("created_saved_query") && activities.contains("deleted_multiple_saved_query"))
        }
    }

    @Test func validationNamesTheField() async throws {
        let h = try await AdminTestHarness()
        let token = h.tokens[.admin]!
        try await h.application.test(.router) { client in
            let cases: [(String, String)] = [
                (#"{"name":"a","query":"SELECT * FROM no_such_table_here;"}"#, "query"),
                (#"{"name":"a","query":"SELECT * FROM apps;","platform":"linux"}"#, "query"),
                (#"{"name":"a","query":"SELECT 1;","platform":"amiga"}"#, "platform"),
                (#"{"name":"","query":"SELECT 1;"}"#, "name"),
                (#"{"name":"a","query":"SELECT 1;","logging":"sometimes"}"#, "logging"),
                (#"{"name":"a","query":"SELECT 1;","interval":-5}"#, "interval"),
                (#"{"name":"a","query":"DELETE FROM processes;"}"#, "query"),
                (#"{"name":"a","query":"SELECT 1;","min_osquery_version":"five"}"#, "min_osquery_version"),
                (#"{"name":"a","query":7}"#, "query"),
            ]
            for (body, field) in cases {
                let response = try await client.call(.post, "/api/v1/fleet/queries", token: token, body: body)
                #expect(response.status == .unprocessableContent, "\(body)")
                #expect(response.firstError?.name == field, "\(body): \(String(describing: response.firstError))")
            }
            _ = try await client.call(.post, "/api/v1/fleet/queries", token: token, body: #"{"name":"dup","query":"SELECT 1;"}"#)
            let duplicate = try await client.call(.post, "/api/v1/fleet/queries", token: token, body: #"{"name":"dup","query":"SELECT 1;"}"#)
            #expect(duplicate.status == .conflict)
            #expect(try await client.call(.post, "/api/v1/fleet/queries", token: h.tokens[.observer]!, body: #"{"name":"o","query":"SELECT 1;"}"#).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/fleet/queries", token: nil).status == .unauthorized)
        }
    }

    @Test func packsAndTheirScheduledQueries() async throws {
        let h = try await AdminTestHarness()
        let token = h.tokens[.maintainer]!
        try await h.application.test(.router) { client in
            let query = try await client.call(.post, "/api/v1/fleet/queries", token: token, body: #"{"name":"procs","query":"SELECT * FROM processes;"}"#)
            let queryID = try #require(query.json["query"]?["id"]?.intValue)
            let pack = try await client.call(.post, "/api/v1/fleet/packs", token: token, body: #"{"name":"monitoring","description":"d","platform":"linux"}"#)
            let packID = try #require(pack.json["pack"]?["id"]?.intValue)
            let scheduled = try await client.call(
                .post, "/api/v1/fleet/packs/schedule", token: token,
                body: #"{"pack_id":\#(packID),"query_id":\#(queryID),"interval":120,"snapshot":false,"removed":true}"#)
            #expect(scheduled.status == .ok)
            let scheduleID = try #require(scheduled.json["scheduled"]?["id"]?.intValue)
            #expect(scheduled.json["scheduled"]?["removed"] == .bool(true))
            let listed = try await client.call(.get, "/api/v1/fleet/packs/\(packID)/scheduled", token: h.tokens[.observer]!)
            #expect(listed.json["scheduled"]?.arrayValue?.map { $0["id"]?.intValue } == [scheduleID])
            let packs = try await client.call(.get, "/api/v1/fleet/packs", token: token)
            #expect(packs.json["packs"]?.arrayValue?.first?["query_count"]?.intValue == 1)
            #expect(try await h.store.packs().first?.queries.first?.logging == .differential)
            let patched = try await client.call(.patch, "/api/v1/fleet/packs/schedule/\(scheduleID)", token: token, body: #"{"interval":30}"#)
            #expect(patched.json["scheduled"]?["interval"]?.intValue == 30)
            #expect(try await client.call(.post, "/api/v1/fleet/packs/schedule", token: token, body: #"{"pack_id":\#(packID),"query_id":\#(queryID)}"#).firstError?.name == "interval")
            #expect(try await client.call(.delete, "/api/v1/fleet/packs/schedule/\(scheduleID)", token: token).status == .ok)
            #expect(try await client.call(.delete, "/api/v1/fleet/packs/monitoring", token: token).status == .ok)
            #expect(try await h.store.packs().isEmpty)
        }
    }
}
