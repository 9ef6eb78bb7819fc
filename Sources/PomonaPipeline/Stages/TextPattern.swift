import Foundation

/// A compiled regular expression from the configuration.
///
/// Uses `NSRegularExpression` rather than Swift `Regex`: on this Linux toolchain (Swift 6.3.1)
/// `NSRegularExpression` searched about 3× faster (28 vs 9–10 MB per CPU-second) and replaced
/// matches 4–8× faster (15–17 vs 2–4 MB/s); Swift `Regex` only won for anchored patterns that fail at
/// the first byte. Figures from `Benchmarks/stages.sh`, recorded in `Benchmarks/RESULTS.md`.
public struct TextPattern: Sendable, CustomStringConvertible {
    public let pattern: String
    let regex: NSRegularExpression

    /// - Throws: a message saying why the pattern does not compile.
    public init(_ pattern: String) throws(TextPatternError) {
        self.pattern = pattern
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw TextPatternError(pattern: pattern)
        }
    }

    public var description: String { pattern }

    /// Whether the pattern matches anywhere in `text` (anchor with `^…$` for a whole match).
    public func matches(_ text: String) -> Bool {
        let ns = text as NSString
        return regex.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) != nil
    }

    /// `text` with every match replaced by `template` (`$1` refers to a capture group), or nil if
    /// nothing matched.
    public func replacingMatches(in text: String, with template: String) -> String? {
        let range = NSRange(location: 0, length: (text as NSString).length)
        guard regex.firstMatch(in: text, range: range) != nil else { return nil }
        return regex.stringByReplacingMatches(in: text, range: range, withTemplate: template)
    }
}

public struct TextPatternError: Error, Equatable, Sendable, CustomStringConvertible {
    public let pattern: String
    public var description: String { "\"\(pattern)\" is not a valid regular expression (ICU syntax)" }
}
