import Foundation

/// A compiled regular expression from the configuration.
///
/// Uses `NSRegularExpression` rather than Swift `Regex`: on this Linux toolchain (Swift 6.3.1)
/// `NSRegularExpression` searched unanchored patterns about 2× faster (19 vs 10 MB/s) and replaced
/// matches about 7× faster (10 vs 1.4 MB/s); Swift `Regex` was only faster for anchored patterns
/// that fail at the first byte (58 vs 28 MB/s). See Benchmarks/stages.sh and RESULTS.md.
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
