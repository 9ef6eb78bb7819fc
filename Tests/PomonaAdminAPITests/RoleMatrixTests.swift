import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import Testing
@testable import PomonaAdminAPI

/// One route of the management API and the least role that may call it (`nil`: public).
struct RoleMatrixRow: Sendable, CustomStringConvertible {
    var method: HTTPRequest.Method
    /// The path below `/api/v1/fleet` as registered (`/users/{id}`); parameters are filled with
    /// `999999` unless `example` gives a concrete path.
    var path: String
    var minimum: Role?
    var body: String?
    var example: String?

    init(_ method: HTTPRequest.Method, _ path: String, _ minimum: Role?, body: String? = nil, example: String? = nil) {
        self.method = method
        self.path = path
        self.minimum = minimum
        self.body = body
        self.example = example
    }

    var description: String { "\(method) \(path)" }

    /// The concrete URL to call.
    var url: String {
        let concrete = example ?? path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") || segment.hasPrefix(":") ? "999999" : String(segment)
        }.joined(separator: "/")
        return concrete.hasPrefix("/api/") ? concrete : "/api/v1/fleet" + concrete
    }
}

/// The role matrix: every route, each role → allowed (anything but 401/403) or 403; no token → 401.
///
/// Rows are kept by area. Whoever adds routes adds rows here; `everyRegisteredRouteHasARow` fails
/// until they do.
enum RoleMatrix {
    static let accountRows: [RoleMatrixRow] = [
        .init(.post, "/api/v1/setup", nil, body: #"{"name":"x","email":"x@example.com","password":"long-password-1!"}"#),
        .init(.post, "/api/latest/setup", nil, body: #"{"name":"x","email":"x@example.com","password":"long-password-1!"}"#),
        .init(.get, "/api/v1/setup", nil),
        .init(.get, "/api/latest/setup", nil),
        .init(.post, "/login", nil, body: #"{"email":"observer@example.com","password":"correct-horse-1!"}"#),
        .init(.post, "/logout", .observer),
        .init(.get, "/me", .observer),
        .init(.post, "/change_password", .observer, body: #"{"old_password":"wrong-password-1!","new_password":"another-password-2!"}"#),
        .init(.get, "/version", .observer),
        .init(.get, "/users", .admin),
        .init(.post, "/users/admin", .admin, body: #"{"name":"n","email":"new@example.com","password":"long-password-1!","global_role":"observer"}"#),
        .init(.get, "/users/{id}", .admin),
        .init(.patch, "/users/{id}", .admin, body: #"{"name":"renamed"}"#),
        .init(.delete, "/users/{id}", .admin),
        .init(.post, "/users/{id}/api_token", .admin),
    ]

    static let hostRows: [RoleMatrixRow] = [
        .init(.get, "/hosts", .observer),
        .init(.get, "/hosts/count", .observer),
        .init(.get, "/host_summary", .observer),
        .init(.get, "/hosts/{id}", .observer),
        .init(.get, "/hosts/identifier/{identifier}", .observer),
        .init(.delete, "/hosts/{id}", .maintainer),
        .init(.post, "/hosts/delete", .maintainer, body: #"{"ids":[999999]}"#),
        .init(.post, "/hosts/{id}/refetch", .observer),
        .init(.get, "/hosts/{id}/software", .observer),
        .init(.get, "/hosts/{id}/users", .observer),
        .init(.get, "/hosts/{id}/results", .observer),
    ]

    static let inventoryAndSettingsRows: [RoleMatrixRow] = [
        .init(.get, "/software", .observer),
        .init(.get, "/software/count", .observer),
        .init(.get, "/software/{id}", .observer),
        .init(.get, "/software/versions", .observer),
        .init(.get, "/software/versions/count", .observer),
        .init(.get, "/software/versions/{id}", .observer),
        .init(.get, "/config", .observer),
        .init(.patch, "/config", .admin, body: #"{"org_info":{"org_name":"Acme"}}"#),
        .init(.get, "/spec/enroll_secret", .maintainer),
        .init(.post, "/spec/enroll_secret", .admin, body: #"{"spec":{"secrets":[{"secret":"a-new-secret-0123456789"}]}}"#),
        .init(.get, "/activities", .observer),
        .init(.get, "/carves", .maintainer),
        .init(.get, "/carves/{id}", .maintainer),
        .init(.get, "/carves/{id}/block/{block}", .maintainer, example: "/carves/999999/block/0"),
        .init(.get, "/carves/{id}/download", .maintainer),
    ]

    // MARK: Queries, packs, labels, policies, live queries (the "fleet" area adds its rows here)
    static let fleetRows: [RoleMatrixRow] = [
        .init(.get, "/queries", .observer),
        .init(.post, "/queries", .maintainer, body: #"{"name":"m","query":"SELECT 1;"}"#),
        .init(.get, "/queries/{id}", .observer),
        .init(.patch, "/queries/{id}", .maintainer, body: #"{"description":"x"}"#),
        .init(.delete, "/queries/{id}", .maintainer),
        .init(.delete, "/queries/id/{id}", .maintainer),
        .init(.post, "/queries/delete", .maintainer, body: #"{"ids":[999999]}"#),
        .init(.post, "/queries/{id}/run", .observer, body: #"{"host_ids":[999999]}"#),
        .init(.post, "/queries/run", .maintainer, body: #"{"query":"SELECT 1;","selected":{"hosts":[999999]}}"#),
        .init(.post, "/queries/run_by_identifiers", .maintainer, body: #"{"query":"SELECT 1;","selected":{"hosts":["nobody"]}}"#),
        .init(.get, "/queries/run/{id}", .observer),
        .init(.delete, "/queries/run/{id}", .observer),
        .init(.get, "/queries/run/{id}/stream", .observer),
        .init(.post, "/hosts/{id}/query", .maintainer, body: #"{"query":"SELECT 1;"}"#),
        .init(.post, "/hosts/identifier/{identifier}/query", .maintainer, body: #"{"query":"SELECT 1;"}"#),
        .init(.get, "/spec/queries", .observer),
        .init(.post, "/spec/queries", .maintainer, body: #"{"specs":[]}"#),
        .init(.get, "/spec/labels", .observer),
        .init(.post, "/spec/labels", .maintainer, body: #"{"specs":[]}"#),
        .init(.post, "/spec/policies", .maintainer, body: #"{"specs":[]}"#),
        .init(.get, "/spec/packs", .observer),
        .init(.post, "/spec/packs", .maintainer, body: #"{"specs":[]}"#),
        .init(.get, "/labels", .observer),
        .init(.post, "/labels", .maintainer, body: #"{"name":"m","query":"SELECT 1;"}"#),
        .init(.get, "/labels/summary", .observer),
        .init(.get, "/labels/{id}", .observer),
        .init(.patch, "/labels/{id}", .maintainer, body: #"{"description":"x"}"#),
        .init(.delete, "/labels/{id}", .maintainer),
        .init(.delete, "/labels/id/{id}", .maintainer),
        .init(.get, "/labels/{id}/hosts", .observer),
        .init(.get, "/global/policies", .observer),
        .init(.post, "/global/policies", .maintainer, body: #"{"name":"p","query":"SELECT 1;"}"#),
        .init(.get, "/global/policies/{id}", .observer),
        .init(.patch, "/global/policies/{id}", .maintainer, body: #"{"description":"x"}"#),
        .init(.post, "/global/policies/delete", .maintainer, body: #"{"ids":[999999]}"#),
        .init(.get, "/policies/count", .observer),
        .init(.get, "/global/schedule", .observer),
        .init(.post, "/global/schedule", .maintainer, body: #"{"query_id":999999,"interval":60}"#),
        .init(.patch, "/global/schedule/{id}", .maintainer, body: #"{"interval":60}"#),
        .init(.delete, "/global/schedule/{id}", .maintainer),
        .init(.get, "/schedule", .observer),
        .init(.post, "/schedule", .maintainer, body: #"{"query_id":999999,"interval":60}"#),
        .init(.patch, "/schedule/{id}", .maintainer, body: #"{"interval":60}"#),
        .init(.delete, "/schedule/{id}", .maintainer),
        .init(.get, "/packs", .observer),
        .init(.post, "/packs", .maintainer, body: #"{"name":"p"}"#),
        .init(.get, "/packs/{id}", .observer),
        .init(.patch, "/packs/{id}", .maintainer, body: #"{"description":"x"}"#),
        .init(.delete, "/packs/{id}", .maintainer),
        .init(.delete, "/packs/id/{id}", .maintainer),
        .init(.get, "/packs/{id}/scheduled", .observer),
        .init(.post, "/packs/schedule", .maintainer, body: #"{"pack_id":999999,"query_id":999999,"interval":60}"#),
        .init(.patch, "/packs/schedule/{id}", .maintainer, body: #"{"interval":60}"#),
        .init(.delete, "/packs/schedule/{id}", .maintainer),
    ]

    // MARK: Debug and pipeline (their owners add rows here)
    static let otherRows: [RoleMatrixRow] = [
        .init(.get, "/api/v1/pomona/debug", .admin),
        .init(.get, "/api/v1/pomona/pipeline/stats", .observer),
        .init(.post, "/api/v1/pomona/spec", .maintainer, body: #"{"queries":[]}"#),
    ]

    static var rows: [RoleMatrixRow] { accountRows + hostRows + inventoryAndSettingsRows + fleetRows + otherRows }
}

@Suite struct RoleMatrixTests {
    /// Every route registered under an API prefix has a row, so a new route cannot skip the matrix.
    @Test func everyRegisteredRouteHasARow() async throws {
        let harness = try await AdminTestHarness()
        let known = Set(RoleMatrix.rows.map { row in
            "\(row.method) \(row.path.hasPrefix("/api/") ? row.path : "/api/v1/fleet" + row.path)"
        })
        var missing: [String] = []
        for route in harness.makeRouter().routes {
            let path = route.path.description
            guard path.hasPrefix("/api/v1/") else { continue }  // /api/latest/... mirrors /api/v1/...
            let key = "\(route.method) \(path)"
            if !known.contains(key) { missing.append(key) }
        }
        #expect(missing.isEmpty, "routes without a role-matrix row: \(missing.sorted())")
    }

    @Test(arguments: RoleMatrix.rows)
    func roleIsEnforced(_ row: RoleMatrixRow) async throws {
        // A fresh server per route: an allowed call may change state (log out, delete) that the next role's call must not see.
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let anonymous = try await client.call(row.method, row.url, body: row.body)
            if row.minimum == nil {
                #expect(anonymous.status != .unauthorized && anonymous.status != .forbidden, "\(row) is public but answered \(anonymous.status)")
            } else {
                #expect(anonymous.status == .unauthorized, "\(row) without a token answered \(anonymous.status)")
                #expect(anonymous.json["message"]?.stringValue != nil, "\(row): 401 without Fleet's envelope")
            }
            for role in [Role.observer, .maintainer, .admin] {
                let response = try await client.call(row.method, row.url, token: harness.tokens[role], body: row.body)
                if let minimum = row.minimum, role < minimum {
                    #expect(response.status == .forbidden, "\(row) as \(role) answered \(response.status), expected 403")
                } else {
                    #expect(
                        response.status != .forbidden && response.status != .unauthorized && response.status.code < 500,
                        "\(row) as \(role) answered \(response.status): \(String(buffer: response.body))")
                }
            }
        }
    }

    @Test func aBadTokenIsRefusedEverywhereUnderTheAPI() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            for row in RoleMatrix.rows where row.minimum != nil {
                let response = try await client.call(row.method, row.url, token: "not-a-token", body: row.body)
                #expect(response.status == .unauthorized, "\(row) with a bad token answered \(response.status)")
            }
        }
    }
}
