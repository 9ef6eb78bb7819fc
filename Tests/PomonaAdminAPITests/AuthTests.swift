import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaCore
import PomonaStore
import Synchronization
import Testing
@testable import PomonaAdminAPI

@Suite struct AuthTests {
    /// A harness with no users at all (for setup).
    static func emptyServer(settings: AdminSettings = AdminTestHarness.fastSettings()) async throws -> AdminTestHarness {
        let harness = try await AdminTestHarness(settings: settings, seedUsers: false)
        #expect(try await harness.store.userCount() == 0)
        return harness
    }

    @Test func setupCreatesTheFirstAdminOnlyOnce() async throws {
        let harness = try await Self.emptyServer()
        try await harness.application.test(.router) { client in
            let body = #"{"admin":{"name":"Ada","email":"Ada@Example.com","password":"first-admin-pass-1!"}}"#
            let first = try await client.call(.post, "/api/v1/setup", body: body)
            #expect(first.status == .ok)
            #expect(first.json["admin"]?["global_role"]?.stringValue == "admin")
            #expect(first.json["admin"]?["email"]?.stringValue == "ada@example.com")
            let token = try #require(first.json["token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: token).status == .ok)

            let second = try await client.call(.post, "/api/v1/setup", body: body.replacingOccurrences(of: "Ada@", with: "eve@"))
            #expect(second.status == .conflict)
            #expect(try await harness.store.userCount() == 1)
        }
    }

    @Test func setupValidatesThePasswordPolicy() async throws {
        let harness = try await Self.emptyServer()
        try await harness.application.test(.router) { client in
            for (password, reason) in [("short1!", "at least 12"), ("no-digits-here!", "number"), ("nosymbols12345", "symbol")] {
                let response = try await client.call(
                    .post, "/api/v1/setup", body: #"{"name":"A","email":"a@example.com","password":"\#(password)"}"#)
                #expect(response.status == .unprocessableContent)
                #expect(response.firstError?.name == "password")
                #expect(response.firstError?.reason.contains(reason) == true, "\(password): \(String(describing: response.firstError))")
            }
            #expect(try await harness.store.userCount() == 0)
        }
    }

    @Test func loginLogoutAndMe() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let bad = try await client.call(.post, "/api/v1/fleet/login", body: #"{"email":"admin@example.com","password":"wrong-password-1!"}"#)
            #expect(bad.status == .unauthorized)
            let unknown = try await client.call(.post, "/api/v1/fleet/login", body: #"{"email":"ghost@example.com","password":"wrong-password-1!"}"#)
            #expect(unknown.status == .unauthorized)
            #expect(unknown.json["message"] == bad.json["message"], "unknown email and wrong password must look the same")

            let login = try await client.call(
                .post, "/api/latest/fleet/login", body: #"{"email":"ADMIN@example.com","password":"\#(AdminTestHarness.password)"}"#)
            #expect(login.status == .ok)
            #expect(login.json["user"]?["global_role"]?.stringValue == "admin")
            let token = try #require(login.json["token"]?.stringValue)
            #expect(token.count >= 43)  // 256 bits, base64url

            let me = try await client.call(.get, "/api/v1/fleet/me", token: token)
            #expect(me.json["user"]?["email"]?.stringValue == "admin@example.com")
            #expect(try await client.call(.post, "/api/v1/fleet/logout", token: token).status == .ok)
            let after = try await client.call(.get, "/api/v1/fleet/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test func tokensAreStoredOnlyAsDigests() async throws {
        let harness = try await AdminTestHarness()
        let token = try #require(harness.tokens[.admin])
        // The session is found by the token's digest only: the token itself is no key.
        #expect(try await harness.store.session(tokenDigest: token) == nil)
        #expect(try await harness.store.session(tokenDigest: BearerToken.digest(token)) != nil)
        let hashes = try await harness.store.users().map(\.passwordHash)
        #expect(hashes.allSatisfy { $0.hasPrefix("pbkdf2-sha256$") && !$0.contains(AdminTestHarness.password) })
    }

    @Test func sessionsExpireAfterIdleTimeAndSlideWhenUsed() async throws {
        var settings = AdminTestHarness.fastSettings()
        settings.sessionLifetime = 3600
        let harness = try await AdminTestHarness(settings: settings)
        let token = try #require(harness.tokens[.observer])
        try await harness.application.test(.router) { client in
            // Used every 40 minutes: each use pushes the end an hour ahead, so it outlives its first hour.
            for _ in 0..<3 {
                harness.advance(by: 40 * 60)
                #expect(try await client.call(.get, "/api/v1/fleet/me", token: token).status == .ok)
            }
            harness.advance(by: 3601)
            let expired = try await client.call(.get, "/api/v1/fleet/me", token: token)
            #expect(expired.status == .unauthorized)
            #expect(expired.firstError?.reason.contains("expired") == true)
        }
    }

    @Test func apiOnlyUserTokenIsReturnedOnceAndDoesNotExpire() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let created = try await client.call(
                .post, "/api/v1/fleet/users/admin", token: harness.tokens[.admin],
                body: #"{"name":"SIEM","email":"siem@example.com","global_role":"observer","api_only":true}"#)
            #expect(created.status == .ok)
            #expect(created.json["user"]?["api_only"] == .bool(true))
            let token = try #require(created.json["token"]?.stringValue)
            harness.advance(by: 400 * 86400)
            let me = try await client.call(.get, "/api/v1/fleet/hosts", token: token)
            #expect(me.status == .ok)
            // It has no password, so it cannot log in.
            let login = try await client.call(.post, "/api/v1/fleet/login", body: #"{"email":"siem@example.com","password":""}"#)
            #expect(login.status == .unauthorized)
            // Observer: cannot change things.
            #expect(try await client.call(.patch, "/api/v1/fleet/config", token: token, body: "{}").status == .forbidden)
            // Rotation ends the old token.
            let id = try #require(created.json["user"]?["id"]?.intValue)
            // (The admin's own session has long expired: 400 days passed.)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: harness.tokens[.admin]).status == .unauthorized)
            let admin = try await harness.api.issueToken(userID: harness.userIDs[.admin]!, kind: .session)
            let rotated = try await client.call(.post, "/api/v1/fleet/users/\(id)/api_token", token: admin)
            let newToken = try #require(rotated.json["token"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: token).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: newToken).status == .ok)
        }
    }

    @Test func loginIsRateLimitedPerEmailWithRetryAfter() async throws {
        var settings = AdminTestHarness.fastSettings()
        settings.loginAttemptsPerMinute = 3
        let harness = try await AdminTestHarness(settings: settings)
        try await harness.application.test(.router) { client in
            let body = #"{"email":"observer@example.com","password":"guess-number-1!"}"#
            for _ in 0..<3 { #expect(try await client.call(.post, "/api/v1/fleet/login", body: body).status == .unauthorized) }
            let limited = try await client.call(.post, "/api/v1/fleet/login", body: body)
            #expect(limited.status == .tooManyRequests)
            let retryAfter = try #require(limited.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter >= 1 && retryAfter <= 60)
            // Even the right password waits: the limit is on attempts, not failures.
            let right = #"{"email":"observer@example.com","password":"\#(AdminTestHarness.password)"}"#
            #expect(try await client.call(.post, "/api/v1/fleet/login", body: right).status == .tooManyRequests)
            harness.advance(by: 21)
            #expect(try await client.call(.post, "/api/v1/fleet/login", body: right).status == .ok)
        }
    }

    @Test func rateLimiterRefillsOverTime() {
        var throttle = LoginThrottle(attemptsPerMinute: 2)
        let t0 = Date(timeIntervalSince1970: 1000)
        #expect(throttle.attemptLogin(email: "a", address: "10.0.0.1", now: t0) == nil)
        #expect(throttle.attemptLogin(email: "a", address: "10.0.0.1", now: t0) == nil)
        #expect(throttle.attemptLogin(email: "a", address: "10.0.0.1", now: t0) == 30)
        #expect(throttle.attemptLogin(email: "b", address: "10.0.0.1", now: t0) == nil, "another email from the same address")
        #expect(throttle.attemptLogin(email: "a", address: "10.0.0.1", now: t0.addingTimeInterval(30)) == nil)
    }

    @Test func passwordHashingVerifiesAndRejects() async throws {
        let hash = try PasswordHashing.hash("s3cret-password!", rounds: 1000)
        #expect(PasswordHashing.verify("s3cret-password!", against: hash))
        #expect(!PasswordHashing.verify("s3cret-password?", against: hash))
        #expect(!PasswordHashing.verify("anything", against: ""))
        #expect(!PasswordHashing.verify("anything", against: "pbkdf2-sha256$x$y$z"))
        #expect(try PasswordHashing.hash("same", rounds: 1000) != PasswordHashing.hash("same", rounds: 1000), "salted")
        #expect(PasswordHashing.defaultRounds >= 210_000)
    }

    @Test func roleChangesTakeEffectAtOnceAndTheLastAdminStays() async throws {
        let harness = try await AdminTestHarness()
        let maintainerID = try #require(harness.userIDs[.maintainer])
        let adminID = try #require(harness.userIDs[.admin])
        try await harness.application.test(.router) { client in
            let admin = harness.tokens[.admin]
            #expect(try await client.call(.get, "/api/v1/fleet/users", token: harness.tokens[.maintainer]).status == .forbidden)
            let promoted = try await client.call(.patch, "/api/v1/fleet/users/\(maintainerID)", token: admin, body: #"{"global_role":"admin"}"#)
            #expect(promoted.json["user"]?["global_role"]?.stringValue == "admin")
            #expect(try await client.call(.get, "/api/v1/fleet/users", token: harness.tokens[.maintainer]).status == .ok)

            let bad = try await client.call(.patch, "/api/v1/fleet/users/\(maintainerID)", token: admin, body: #"{"global_role":"root"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.firstError?.name == "global_role")

            #expect(try await client.call(.delete, "/api/v1/fleet/users/\(maintainerID)", token: admin).status == .ok)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: harness.tokens[.maintainer]).status == .unauthorized)
            let last = try await client.call(.delete, "/api/v1/fleet/users/\(adminID)", token: admin)
            #expect(last.status == .conflict)
            let demote = try await client.call(.patch, "/api/v1/fleet/users/\(adminID)", token: admin, body: #"{"global_role":"observer"}"#)
            #expect(demote.status == .conflict)

            let users = try await client.call(.get, "/api/v1/fleet/users", token: admin)
            #expect(users.json["users"]?.arrayValue?.count == 2)
            let duplicate = try await client.call(
                .post, "/api/v1/fleet/users/admin", token: admin,
                body: #"{"name":"x","email":"OBSERVER@example.com","password":"long-password-1!","global_role":"observer"}"#)
            #expect(duplicate.status == .conflict)
            #expect(duplicate.firstError?.name == "email")

            let types = try await client.call(.get, "/api/v1/fleet/activities", token: admin).json["activities"]?.arrayValue?
                .compactMap { $0["type"]?.stringValue } ?? []
            #expect(types.contains("changed_user_global_role"))
            #expect(types.contains("deleted_user"))
        }
    }

    @Test func malformedAndOversizedBodiesAreNamed() async throws {
        let harness = try await AdminTestHarness()
        try await harness.application.test(.router) { client in
            let admin = harness.tokens[.admin]
            let malformed = try await client.call(.post, "/api/v1/fleet/users/admin", token: admin, body: #"{"name": "x",}"#)
            #expect(malformed.status == .badRequest)
            #expect(malformed.firstError?.reason.contains("malformed JSON") == true)
            let missing = try await client.call(.post, "/api/v1/fleet/users/admin", token: admin, body: #"{"name":"x"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.firstError?.name == "email")
            let mistyped = try await client.call(.post, "/api/v1/fleet/hosts/delete", token: admin, body: #"{"ids":["one"]}"#)
            #expect(mistyped.status == .unprocessableContent)
            #expect(mistyped.firstError?.name == "ids[0]")
            let empty = try await client.call(.post, "/api/v1/fleet/users/admin", token: admin, body: "")
            #expect(empty.status == .badRequest)
            let huge = "{\"name\":\"" + String(repeating: "a", count: 2 << 20) + "\"}"
            let tooLarge = try await client.call(.post, "/api/v1/fleet/users/admin", token: admin, body: huge)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.json["message"]?.stringValue != nil)
        }
    }
}
