import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import PomonaCore
import PomonaStore
import Testing
@testable import PomonaAdminAPI

/// Browser sessions: HttpOnly cookie at login/setup on request, cookie authentication, CSRF on
/// every state-changing cookie request, fetch-metadata refusal, logout and expiry clearing cookies.
@Suite struct BrowserSessionTests {
    static let loginBody = #"{"email":"admin@example.com","password":"correct-horse-1!"}"#

    /// A browser's cookie session: the two cookie values as a browser would store them.
    struct Jar {
        var session: String
        var csrf: String
        var cookieHeader: String { "\(BrowserSession.sessionCookie)=\(session); \(BrowserSession.csrfCookie)=\(csrf)" }
    }

    static func setCookies(_ response: AdminResponse) -> [String] { response.headers[values: .setCookie] }

    /// Logs in as a browser does and returns the cookies the answer set.
    static func browserLogin(_ client: some TestClientProtocol, email: String = "admin@example.com") async throws -> Jar {
        let response = try await client.send(
            .post, "/api/v1/fleet/login", headers: [BrowserSession.sessionModeHeader: "cookie", HTTPFields.Element.Name("Sec-Fetch-Site")!: "same-origin"],
            body: #"{"email":"\#(email)","password":"correct-horse-1!"}"#)
        #expect(response.status == .ok)
        var values: [String: String] = [:]
        for cookie in setCookies(response) {
            let pair = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            values[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
        }
        return Jar(session: try #require(values[BrowserSession.sessionCookie]), csrf: try #require(values[BrowserSession.csrfCookie]))
    }

    @Test func aBrowserLoginSetsHttpOnlyCookiesAndKeepsTheTokenOutOfTheBody() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let response = try await client.send(
                .post, "/api/v1/fleet/login", headers: [BrowserSession.sessionModeHeader: "cookie"], body: Self.loginBody)
            #expect(response.status == .ok)
            #expect(response.json["token"] == nil, "a script could read the token from the body")
            #expect(response.json["user"]?["email"]?.stringValue == "admin@example.com")
            #expect(response.headers[.cacheControl] == "no-store")
            let cookies = Self.setCookies(response)
            #expect(cookies.count == 2)
            let session = try #require(cookies.first { $0.hasPrefix("__Host-pomona_session=") })
            let csrf = try #require(cookies.first { $0.hasPrefix("__Host-pomona_csrf=") })
            for flag in ["Path=/", "Secure", "HttpOnly", "SameSite=Strict"] { #expect(session.contains("; \(flag)"), "session cookie lacks \(flag)") }
            #expect(!session.contains("Domain"))
            #expect(!csrf.contains("HttpOnly"), "the page must read the CSRF cookie")
            #expect(csrf.contains("; Secure") && csrf.contains("; SameSite=Strict") && csrf.contains("; Path=/"))
            // The cookie's token is a real session.
            let token = String(session.split(separator: ";")[0].dropFirst("__Host-pomona_session=".count))
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: token).status == .ok)
        }
    }

    @Test func theCLILoginIsUnchanged() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let response = try await client.call(.post, "/api/v1/fleet/login", body: Self.loginBody)
            #expect(response.status == .ok)
            #expect(response.json["token"]?.stringValue?.isEmpty == false)
            #expect(Self.setCookies(response).isEmpty)
        }
    }

    @Test func setupStatusIsPublicAndABrowserSetupGetsCookies() async throws {
        let harness = try await AuthTests.emptyServer()
        try await harness.application.test(.router) { client in
            for path in ["/api/v1/setup", "/api/latest/setup"] {
                let status = try await client.call(.get, path)
                #expect(status.status == .ok)
                #expect(status.json["require_setup"] == .bool(true), "\(path)")
            }
            let setup = try await client.send(
                .post, "/api/v1/setup", headers: [BrowserSession.sessionModeHeader: "cookie"],
                body: #"{"admin":{"name":"Ada","email":"ada@example.com","password":"first-admin-pass-1!"}}"#)
            #expect(setup.status == .ok)
            #expect(setup.json["token"] == nil)
            #expect(setup.json["admin"]?["email"]?.stringValue == "ada@example.com")
            #expect(Self.setCookies(setup).count == 2)
            #expect(try await client.call(.get, "/api/v1/setup").json["require_setup"] == .bool(false))
        }
    }

    @Test func theCookieAuthenticatesReads() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let jar = try await Self.browserLogin(client)
            let me = try await client.send(.get, "/api/v1/fleet/me", headers: [.cookie: jar.cookieHeader])
            #expect(me.status == .ok)
            #expect(me.json["user"]?["email"]?.stringValue == "admin@example.com")
            // Also when the browser splits cookies over several headers (HTTP/2 does).
            var split = HTTPFields()
            split.append(HTTPFields.Element(name: .cookie, value: "other=1"))
            split.append(HTTPFields.Element(name: .cookie, value: "\(BrowserSession.sessionCookie)=\(jar.session)"))
            #expect(try await client.send(.get, "/api/v1/fleet/hosts", headers: split).status == .ok)
        }
    }

    /// Every state-changing route of the role matrix, called with the session cookie but without
    /// the CSRF header (or with a wrong one), is refused before it runs.
    @Test func everyStateChangingCookieRequestNeedsTheCSRFToken() async throws {
        let harness = try await AdminTestHarness()
        let unsafe = RoleMatrix.rows.filter { $0.minimum != nil && $0.method != .get && $0.method != .head }
        #expect(unsafe.count > 40)
        try await harness.application.test(.router) { client in
            let jar = try await Self.browserLogin(client)
            let other = try await Self.browserLogin(client, email: "observer@example.com")
            for row in unsafe {
                let missing = try await client.send(row.method, row.url, headers: [.cookie: jar.cookieHeader], body: row.body)
                #expect(missing.status == .forbidden, "\(row) without X-Pomona-CSRF answered \(missing.status)")
                #expect(missing.firstError?.reason.contains("X-Pomona-CSRF") == true, "\(row): \(String(describing: missing.firstError))")
                // Another session's token (a token planted from elsewhere) does not match this session.
                let wrong = try await client.send(
                    row.method, row.url, headers: [.cookie: jar.cookieHeader, BrowserSession.csrfHeader: other.csrf], body: row.body)
                #expect(wrong.status == .forbidden, "\(row) with another session's CSRF token answered \(wrong.status)")
            }
            #expect(try await harness.store.session(tokenDigest: BearerToken.digest(jar.session)) != nil, "logout ran without a CSRF token")
        }
    }

    @Test func theRightCSRFTokenLetsAChangeThrough() async throws {
        let harness = try await AdminTestHarness()
        let hostID = try await harness.addHost("mac-1")
        try await harness.application.test(.router) { client in
            let jar = try await Self.browserLogin(client)
            #expect(jar.csrf == BrowserSession.csrfToken(forSessionToken: jar.session))
            let refetch = try await client.send(
                .post, "/api/v1/fleet/hosts/\(hostID)/refetch", headers: [.cookie: jar.cookieHeader, BrowserSession.csrfHeader: jar.csrf])
            #expect(refetch.status == .ok)
            let query = try await client.send(
                .post, "/api/v1/fleet/queries", headers: [.cookie: jar.cookieHeader, BrowserSession.csrfHeader: jar.csrf],
                body: #"{"name":"q1","query":"SELECT 1;"}"#)
            #expect(query.status == .ok, "\(String(buffer: query.body))")
        }
    }

    @Test func crossSiteRequestsWithTheCookieAreRefusedEvenReads() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let jar = try await Self.browserLogin(client)
            let site = HTTPFields.Element.Name("Sec-Fetch-Site")!
            for (value, allowed) in [("cross-site", false), ("same-site", false), ("same-origin", true), ("none", true)] {
                let response = try await client.send(.get, "/api/v1/fleet/me", headers: [.cookie: jar.cookieHeader, site: value])
                #expect((response.status == .ok) == allowed, "Sec-Fetch-Site: \(value) answered \(response.status)")
            }
            // A cross-site login asking for a cookie (login CSRF) sets nothing.
            let login = try await client.send(
                .post, "/api/v1/fleet/login", headers: [BrowserSession.sessionModeHeader: "cookie", site: "cross-site"], body: Self.loginBody)
            #expect(login.status == .forbidden)
            #expect(Self.setCookies(login).isEmpty)
        }
    }

    @Test func logoutEndsTheSessionAndClearsTheCookies() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let jar = try await Self.browserLogin(client)
            let logout = try await client.send(
                .post, "/api/v1/fleet/logout", headers: [.cookie: jar.cookieHeader, BrowserSession.csrfHeader: jar.csrf], body: "{}")
            #expect(logout.status == .ok)
            let cleared = Self.setCookies(logout)
            #expect(cleared.count == 2)
            #expect(cleared.allSatisfy { $0.contains("Max-Age=0") && $0.contains("=;") })
            let after = try await client.send(.get, "/api/v1/fleet/me", headers: [.cookie: jar.cookieHeader])
            #expect(after.status == .unauthorized)
            #expect(Self.setCookies(after).count == 2, "a dead session cookie is cleared")
        }
    }

    @Test func anExpiredCookieSessionAnswers401AndClearsTheCookies() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let jar = try await Self.browserLogin(client)
            harness.advance(by: harness.api.settings.sessionLifetime + 1)
            let response = try await client.send(.get, "/api/v1/fleet/hosts", headers: [.cookie: jar.cookieHeader])
            #expect(response.status == .unauthorized)
            #expect(response.firstError?.reason == "session expired: log in again")
            #expect(Self.setCookies(response).allSatisfy { $0.contains("Max-Age=0") })
        }
    }

    @Test func aBearerTokenWinsAndNeedsNoCSRFToken() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let response = try await client.send(
                .post, "/api/v1/fleet/queries",
                headers: [.authorization: "Bearer \(harness.tokens[.admin]!)", .cookie: "\(BrowserSession.sessionCookie)=bogus"],
                body: #"{"name":"q2","query":"SELECT 1;"}"#)
            #expect(response.status == .ok)
        }
    }

    @Test func publicRoutesIgnoreAStaleCookie() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let response = try await client.send(
                .post, "/api/v1/fleet/login",
                headers: [.cookie: "\(BrowserSession.sessionCookie)=stale; \(BrowserSession.csrfCookie)=stale", BrowserSession.sessionModeHeader: "cookie"],
                body: Self.loginBody)
            #expect(response.status == .ok)
            #expect(try await client.send(.get, "/api/v1/setup", headers: [.cookie: "\(BrowserSession.sessionCookie)=stale"]).status == .ok)
        }
    }

    @Test func cookieHeadersParse() {
        var headers = HTTPFields()
        headers.append(HTTPFields.Element(name: .cookie, value: "a=1; __Host-pomona_session=\"tok\" ;b=x=y"))
        headers.append(HTTPFields.Element(name: .cookie, value: "a=2; =nameless; junk"))
        let cookies = BrowserSession.cookies(headers)
        #expect(cookies == ["a": "1", "__Host-pomona_session": "tok", "b": "x=y"])
        #expect(BrowserSession.sessionToken(headers) == "tok")
        #expect(BrowserSession.sessionToken([.cookie: "__Host-pomona_session="]) == nil)
        #expect(BrowserSession.sessionToken([.cookie: "__Host-pomona_session=" + String(repeating: "x", count: 600)]) == nil)
    }

    @Test func theCSRFTokenIsBoundToTheSessionAndRevealsNothingOfIt() {
        let a = BrowserSession.csrfToken(forSessionToken: "token-a")
        #expect(a == BrowserSession.csrfToken(forSessionToken: "token-a"))
        #expect(a != BrowserSession.csrfToken(forSessionToken: "token-b"))
        #expect(!a.contains("token-a"))
        #expect(a != BearerToken.digest("token-a"), "the CSRF token must not be the stored digest")
        #expect(a.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "cookie-safe characters only")
    }
}

extension TestClientProtocol {
    /// A request with arbitrary headers (cookies, CSRF, fetch metadata).
    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil) async throws -> AdminResponse {
        var headers = headers
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            AdminResponse(status: response.status, headers: response.headers, body: response.body)
        }
    }
}
