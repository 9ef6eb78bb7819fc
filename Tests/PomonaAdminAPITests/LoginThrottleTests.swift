import Foundation
import Hummingbird
import HummingbirdTesting
import PomonaStore
import Testing

@testable import PomonaAdminAPI

/// The login limits (``LoginThrottle``, a plain value with the time passed in) and
/// `change_password`'s limit and session ending.
@Suite struct LoginThrottleTests {
    let t0 = Date(timeIntervalSince1970: 10_000)

    /// The probe's finding: one limit per email let a guesser anywhere lock the real user out.
    @Test func aGuesserElsewhereSlowsButDoesNotLockOutTheRealUser() {
        var throttle = LoginThrottle(attemptsPerMinute: 10)
        // The guesser uses up the pair's and the email's limits from its address.
        var allowed = 0
        for _ in 0..<50 where throttle.attemptLogin(email: "ada@example.com", address: "203.0.113.9", now: t0) == nil { allowed += 1 }
        #expect(allowed == 10)
        // The real user, from their own address, still gets in: once a minute while the email's
        // limit is used up.
        #expect(throttle.attemptLogin(email: "ada@example.com", address: "198.51.100.7", now: t0) == nil)
        let wait = throttle.attemptLogin(email: "ada@example.com", address: "198.51.100.7", now: t0)
        #expect(wait != nil && wait! <= 60)
        #expect(throttle.attemptLogin(email: "ada@example.com", address: "198.51.100.7", now: t0.addingTimeInterval(12)) == nil, "the email's limit refills at 5 a minute")
        // Another user is not affected at all.
        for _ in 0..<10 { #expect(throttle.attemptLogin(email: "bob@example.com", address: "198.51.100.7", now: t0) == nil) }
    }

    @Test func guessingOneEmailFromManyAddressesIsSlowed() {
        var throttle = LoginThrottle(attemptsPerMinute: 10)
        var allowed = 0
        for address in 0..<100 {
            for _ in 0..<10 where throttle.attemptLogin(email: "ada@example.com", address: "10.0.\(address / 256).\(address % 256)", now: t0) == nil {
                allowed += 1
            }
        }
        // Per (email, address) alone would have allowed 1,000: now the email's burst (all from the
        // first address, whose pair limit it also uses up), then one a minute per other address.
        #expect(allowed == 10 + 99)
    }

    @Test func oneAddressCannotSprayManyEmails() {
        var throttle = LoginThrottle(attemptsPerMinute: 10)
        var allowed = 0
        for n in 0..<100 where throttle.attemptLogin(email: "user\(n)@example.com", address: "203.0.113.9", now: t0) == nil { allowed += 1 }
        #expect(allowed == 30)
        #expect(throttle.attemptLogin(email: "user0@example.com", address: "203.0.113.10", now: t0) == nil, "other addresses are not limited by it")
        #expect(throttle.attemptLogin(email: "x@example.com", address: "203.0.113.9", now: t0.addingTimeInterval(2)) == nil, "30 a minute refill")
    }

    @Test func passwordChangesAreLimitedPerUser() {
        var throttle = LoginThrottle(attemptsPerMinute: 3)
        for _ in 0..<3 { #expect(throttle.attemptPasswordChange(userID: 1, now: t0) == nil) }
        #expect(throttle.attemptPasswordChange(userID: 1, now: t0) == 20)
        #expect(throttle.attemptPasswordChange(userID: 2, now: t0) == nil)
        #expect(throttle.attemptPasswordChange(userID: 1, now: t0.addingTimeInterval(20)) == nil)
    }

    @Test func changePasswordEndsTheOtherSessionsAndIsRateLimited() async throws {
        var settings = AdminTestHarness.fastSettings()
        settings.loginAttemptsPerMinute = 3
        let harness = try await AdminTestHarness(settings: settings)
        let userID = try #require(harness.userIDs[.observer])
        let current = try #require(harness.tokens[.observer])
        let laptop = try await harness.api.issueToken(userID: userID, kind: .session)
        let phone = try await harness.api.issueToken(userID: userID, kind: .session)
        let maintainer = try #require(harness.tokens[.maintainer])
        try await harness.application.test(.router) { client in
            let change = #"{"old_password":"\#(AdminTestHarness.password)","new_password":"another-horse-2!"}"#
            #expect(try await client.call(.post, "/api/v1/fleet/change_password", token: current, body: change).status == .ok)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: current).status == .ok, "the session that changed it stays")
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: laptop).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: phone).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/fleet/me", token: maintainer).status == .ok, "other users' sessions stay")

            // Wrong old passwords: two more tries this minute, then 429 with Retry-After.
            let guess = #"{"old_password":"guess-number-1!","new_password":"another-horse-3!"}"#
            for _ in 0..<2 {
                #expect(try await client.call(.post, "/api/v1/fleet/change_password", token: current, body: guess).status == .unprocessableContent)
            }
            let limited = try await client.call(.post, "/api/v1/fleet/change_password", token: current, body: guess)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "20")
            #expect(limited.firstError?.reason == "too many password changes; retry in 20 s")
            harness.advance(by: 20)
            #expect(try await client.call(.post, "/api/v1/fleet/change_password", token: current, body: guess).status == .unprocessableContent)
        }
    }
}
