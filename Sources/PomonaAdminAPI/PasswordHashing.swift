import Crypto
import CryptoExtras
import Foundation

/// Password storage: PBKDF2-HMAC-SHA256 with a random 16-byte salt, stored as
/// `pbkdf2-sha256$<rounds>$<salt base64>$<hash base64>` so the round count can be raised later
/// without invalidating existing passwords. Slow on purpose: call it through ``offload(_:)``.
public enum PasswordHashing {
    /// OWASP's 2023 minimum for PBKDF2-HMAC-SHA256.
    public static let defaultRounds = 210_000
    static let scheme = "pbkdf2-sha256"

    /// Hashes a password. `rounds` below the default are for tests only (they make the KDF cheap).
    public static func hash(_ password: String, rounds: Int = defaultRounds) throws -> String {
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let derived = try derive(password, salt: salt, rounds: rounds)
        return "\(scheme)$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    /// True when `password` matches `stored`. Compares in constant time; a malformed or empty stored
    /// hash (API-only users) never matches.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, let rounds = Int(parts[1]), rounds > 0, rounds <= 10_000_000,
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])),
            expected.count == 32,
            let derived = try? derive(password, salt: Array(salt), rounds: rounds)
        else { return false }
        return constantTimeEqual(derived, Array(expected))
    }

    /// A hash of a random password, verified against when the email is unknown so a failed login
    /// takes as long whether or not the account exists (no user enumeration by timing).
    public static let decoy: String = (try? hash(UUID().uuidString + UUID().uuidString)) ?? ""

    static func derive(_ password: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Fleet's password rules: at least 12 characters, at least one digit and one symbol. The upper
/// bound keeps a single login from costing more than the KDF itself.
public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 128

    /// The reason `password` is not acceptable, or `nil`.
    public static func problem(with password: String) -> String? {
        if password.count < minimumLength { return "must be at least \(minimumLength) characters" }
        if password.count > maximumLength { return "must be at most \(maximumLength) characters" }
        if !password.contains(where: \.isNumber) { return "must contain a number" }
        if !password.contains(where: { !$0.isLetter && !$0.isNumber && !$0.isWhitespace }) { return "must contain a symbol" }
        return nil
    }
}

/// Bearer tokens: 256 random bits, URL-safe base64; only their SHA-256 is stored.
public enum BearerToken {
    public static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
