import Foundation
import Synchronization

/// Token buckets by key, as a plain value: `burst` tokens at most, refilled at `perMinute`.
struct TokenBuckets: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var updated: Date
    }

    let perMinute: Double
    let burst: Double
    private(set) var buckets: [String: Bucket] = [:]

    init(perMinute: Double, burst: Double) {
        self.perMinute = max(perMinute, 1e-6)
        self.burst = max(burst, 1)
    }

    /// The bucket of `key` as it is at `now` (a key never seen has a full one).
    func bucket(_ key: String, now: Date) -> Bucket {
        guard var bucket = buckets[key] else { return Bucket(tokens: burst, updated: now) }
        let elapsed = max(0, now.timeIntervalSince(bucket.updated))
        bucket.tokens = min(burst, bucket.tokens + elapsed * perMinute / 60)
        bucket.updated = now
        return bucket
    }

    /// Seconds until `key` has a token (0 when it has one now).
    func wait(_ key: String, now: Date) -> Double {
        let tokens = bucket(key, now: now).tokens
        return tokens >= 1 ? 0 : (1 - tokens) * 60 / perMinute
    }

    mutating func take(_ key: String, now: Date) {
        var bucket = bucket(key, now: now)
        bucket.tokens -= 1
        buckets[key] = bucket
        // Full buckets carry no information: drop them now and then so the map stays small.
        if buckets.count > 10_000 {
            buckets = buckets.filter { now.timeIntervalSince($0.value.updated) * perMinute / 60 + $0.value.tokens < burst }
        }
    }
}

/// The login limits, as a plain state machine; ``LoginRateLimiter`` keeps one under a lock.
///
/// Three limits, because one per email (as before) let anyone lock a user out by guessing their
/// password from anywhere:
/// - per (email, address), `attemptsPerMinute`: a person retyping a password is never slowed by it;
/// - per address, three times that: one address cannot spray many emails;
/// - per email across all addresses, the same burst refilled at half the rate: guessing from many
///   addresses is slowed. Once it is used up the email is not locked: each (email, address) may
///   still try once a minute, so the real user gets in from their own address while a guesser gets
///   one try per minute per address.
public struct LoginThrottle: Sendable {
    var pairs: TokenBuckets
    var addresses: TokenBuckets
    var emails: TokenBuckets
    /// The once-a-minute allowance per (email, address) while the email's own limit is used up.
    var slowed: TokenBuckets
    /// `change_password` per user: it checks the old password, so it must not be an unlimited oracle.
    var passwordChanges: TokenBuckets

    public init(attemptsPerMinute: Int) {
        let n = Double(max(attemptsPerMinute, 1))
        pairs = TokenBuckets(perMinute: n, burst: n)
        addresses = TokenBuckets(perMinute: 3 * n, burst: 3 * n)
        emails = TokenBuckets(perMinute: max(n / 2, 1), burst: n)
        slowed = TokenBuckets(perMinute: 1, burst: 1)
        passwordChanges = TokenBuckets(perMinute: n, burst: n)
    }

    /// Takes a login attempt, or returns the seconds to wait (for `Retry-After`), taking nothing.
    public mutating func attemptLogin(email: String, address: String, now: Date) -> Int? {
        let pair = email + "\u{0}" + address
        let emailWait = emails.wait(email, now: now)
        let slowWait = slowed.wait(pair, now: now)
        let wait = max(addresses.wait(address, now: now), pairs.wait(pair, now: now), min(emailWait, slowWait))
        if wait > 0 { return Self.seconds(wait) }
        addresses.take(address, now: now)
        pairs.take(pair, now: now)
        if emailWait == 0 { emails.take(email, now: now) } else { slowed.take(pair, now: now) }
        return nil
    }

    /// Takes a `change_password` attempt for a user, or returns the seconds to wait.
    public mutating func attemptPasswordChange(userID: Int64, now: Date) -> Int? {
        let key = String(userID)
        let wait = passwordChanges.wait(key, now: now)
        if wait > 0 { return Self.seconds(wait) }
        passwordChanges.take(key, now: now)
        return nil
    }

    static func seconds(_ wait: Double) -> Int { max(1, Int(wait.rounded(.up))) }
}

/// ``LoginThrottle`` shared by the admin API's handlers. In memory only: a restart forgets, which
/// is fine.
///
/// Concurrency contract: safe from any thread; one `Mutex` held for a few dictionary updates.
public final class LoginRateLimiter: Sendable {
    private let throttle: Mutex<LoginThrottle>

    public init(attemptsPerMinute: Int = 10) {
        throttle = Mutex(LoginThrottle(attemptsPerMinute: attemptsPerMinute))
    }

    /// See ``LoginThrottle/attemptLogin(email:address:now:)``.
    public func attemptLogin(email: String, address: String, now: Date) -> Int? {
        throttle.withLock { $0.attemptLogin(email: email, address: address, now: now) }
    }

    /// See ``LoginThrottle/attemptPasswordChange(userID:now:)``.
    public func attemptPasswordChange(userID: Int64, now: Date) -> Int? {
        throttle.withLock { $0.attemptPasswordChange(userID: userID, now: now) }
    }
}
