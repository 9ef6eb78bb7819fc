import Foundation
import Synchronization

/// Login attempts per key (an email, an IP address) as a token bucket: `burst` attempts at once,
/// refilled at `perMinute`. Fleet allows 10 a minute; that stops password guessing without getting
/// in the way of a person retyping a password. In memory only: a restart forgets, which is fine.
///
/// Concurrency contract: safe from any thread; one `Mutex` held for a dictionary update.
public final class LoginRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Date
    }

    public let perMinute: Double
    public let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(perMinute: Int = 10, burst: Int = 10) {
        self.perMinute = Double(max(perMinute, 1))
        self.burst = Double(max(burst, 1))
    }

    /// Takes one attempt for every key; if any key is exhausted, takes nothing and returns the
    /// seconds until an attempt is allowed (for `Retry-After`).
    public func attempt(keys: [String], now: Date) -> Int? {
        buckets.withLock { buckets in
            var refreshed: [(String, Bucket)] = []
            var wait: Double = 0
            for key in keys {
                var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
                let elapsed = max(0, now.timeIntervalSince(bucket.updated))
                bucket.tokens = min(burst, bucket.tokens + elapsed * perMinute / 60)
                bucket.updated = now
                if bucket.tokens < 1 { wait = max(wait, (1 - bucket.tokens) * 60 / perMinute) }
                refreshed.append((key, bucket))
            }
            if wait > 0 {
                for (key, bucket) in refreshed { buckets[key] = bucket }
                return max(1, Int(wait.rounded(.up)))
            }
            for (key, var bucket) in refreshed {
                bucket.tokens -= 1
                buckets[key] = bucket
            }
            // Full buckets carry no information: drop them now and then so the map stays small.
            if buckets.count > 10_000 {
                buckets = buckets.filter { now.timeIntervalSince($0.value.updated) * self.perMinute / 60 + $0.value.tokens < self.burst }
            }
            return nil
        }
    }
}
