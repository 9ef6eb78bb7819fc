import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import Testing

@testable import PomonaAdminAPI

/// The authentication backstop sees the path the router routes: `//api/...` and other spellings
/// with empty segments must not get past it.
@Suite struct AuthPathTests {
    /// A harness router plus one route that (wrongly) checks no role, so only the backstop guards it.
    func routerWithUnguardedRoute(_ harness: AdminTestHarness) -> Router<AdminRequestContext> {
        let router = harness.makeRouter()
        router.get("/api/v1/fleet/unguarded_probe") { _, _ in jsonResponse(.object([("reached", .bool(true))])) }
        return router
    }

    @Test func pathsWithEmptySegmentsDoNotSkipTheBackstop() async throws {
        let harness = try await AdminTestHarness()
        try await Application(router: routerWithUnguardedRoute(harness)).test(.router) { client in
            #expect(try await client.call(.get, "/api/v1/fleet/unguarded_probe").status == .unauthorized)
            for path in ["//api/v1/fleet/unguarded_probe", "/api//v1/fleet/unguarded_probe", "///api/v1/fleet/unguarded_probe", "//api/v1/fleet/me"] {
                let response = try await client.call(.get, path)
                #expect(response.status != .ok, "\(path)")
                #expect(response.json["reached"] == nil, "\(path)")
            }
        }
        #expect(AdminAuthMiddleware.requiresAuthentication("//api/v1/fleet/hosts"))
        #expect(!AdminAuthMiddleware.requiresAuthentication("//api/v1/fleet/login/"), "public paths stay public however spelled")
        #expect(!AdminAuthMiddleware.requiresAuthentication("/healthz"))
    }
}

/// Labels and query names may contain markup: the API stores them as given and returns them as
/// JSON strings (quotes and backslashes escaped, `application/json`), never as markup. Escaping for
/// HTML is the web page's job.
@Suite struct MarkupInNamesTests {
    @Test func namesWithHTMLRoundTripAsJSONStrings() async throws {
        let harness = try await AdminTestHarness()
        let token = harness.tokens[.maintainer]!
        let markup = #"<img src=x onerror="alert('x')">\</script>"#
        let escaped = #"<img src=x onerror=\"alert('x')\">\\</script>"#
        try await harness.application.test(.router) { client in
            let label = try await client.call(
                .post, "/api/v1/fleet/labels", token: token, body: #"{"name":"\#(escaped)","query":"SELECT 1;"}"#)
            #expect(label.status == .ok)
            let query = try await client.call(.post, "/api/v1/fleet/queries", token: token, body: #"{"name":"\#(escaped)","query":"SELECT 1;"}"#)
            #expect(query.status == .ok)
            for path in ["/api/v1/fleet/labels", "/api/v1/fleet/queries"] {
                let listed = try await client.call(.get, path, token: token)
                #expect(listed.headers[.contentType] == "application/json")
                let text = String(buffer: listed.body)
                #expect(text.contains(#""name":"\#(escaped)""#), "\(path): stored as given, JSON-escaped")
                let key = path.hasSuffix("labels") ? "labels" : "queries"
                #expect(listed.json[key]?.arrayValue?.contains { $0["name"]?.stringValue == markup } == true, "\(path)")
            }
        }
    }
}
