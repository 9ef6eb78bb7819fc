import Foundation
import Yams

/// YAML loading with bounds, for every YAML Pomona reads (the server's `--config`, `pomona apply -f`
/// specs, the CLI's own config file).
///
/// Why: an alias bomb (`a: &a [x,x,…]`, `b: &b [*a,*a,…]`, … nine levels) is 390 bytes and
/// composes cheaply, because Yams hands out the anchored `Node` again for each alias (a value with
/// shared storage). It explodes when the tree is turned into Swift values (`Yams.load`, a decoder, a
/// spec normalizer), which visit every alias expanded: 10^9 nodes, 2.8 GB before the process died.
/// So each document is composed, then walked once with aliases expanded and a budget of
/// ``maxNodes``: the walk stops as soon as the budget is spent, so a bomb costs at most
/// ``maxNodes`` steps, and a document that passes is safe to convert by any means. The text is
/// bounded too (``maxConfigBytes``, ``maxSpecBytes``). (libyaml already bounds nesting at 1,000.)
public enum BoundedYAML {
    /// Nodes a document may have with every alias expanded. A spec export of 10,000 queries has
    /// about 250,000.
    public static let maxNodes = 2_000_000
    /// Nesting with aliases expanded (each alias may add up to libyaml's 1,000 levels).
    public static let maxDepth = 1_000
    /// The server's config file.
    public static let maxConfigBytes = 4 << 20
    /// A spec file for `pomona apply -f`.
    public static let maxSpecBytes = 64 << 20

    /// Every document of `text`, each checked against the bounds.
    /// - Throws: ``BoundedYAMLError`` for a bound, Yams' `YamlError` for a syntax error.
    public static func composeAll(_ text: String, maxBytes: Int) throws -> [Node] {
        try checkSize(text, maxBytes: maxBytes)
        var documents: [Node] = []
        var sequence = try Yams.compose_all(yaml: text)
        var index = 0
        while let node = sequence.next() {
            index += 1
            try check(node, document: index)
            documents.append(node)
        }
        if let error = sequence.error { throw error }
        return documents
    }

    /// The first document of `text` (nil when empty), checked against the bounds.
    public static func compose(_ text: String, maxBytes: Int) throws -> Node? {
        try checkSize(text, maxBytes: maxBytes)
        guard let node = try Yams.compose(yaml: text) else { return nil }
        try check(node, document: 1)
        return node
    }

    /// `text`'s first document as Swift values (`Yams.load`), after the bounds are checked.
    public static func load(_ text: String, maxBytes: Int) throws -> Any? {
        guard let node = try compose(text, maxBytes: maxBytes) else { return nil }
        return Constructor.default.any(from: node)
    }

    public static func checkSize(_ text: String, maxBytes: Int) throws(BoundedYAMLError) {
        let size = text.utf8.count
        if size > maxBytes { throw BoundedYAMLError("the YAML text is \(size) bytes, more than the \(maxBytes) allowed") }
    }

    /// Walks `node` with aliases expanded, stopping once ``maxNodes`` or ``maxDepth`` is passed.
    /// `document` numbers it in the message (nil when the caller names the document itself).
    public static func check(_ node: Node, document: Int?) throws(BoundedYAMLError) {
        var budget = maxNodes
        guard walk(node, depth: 0, budget: &budget) else {
            throw BoundedYAMLError(
                "\(document.map { "document \($0)" } ?? "the document") has more than \(maxNodes) nodes or \(maxDepth) levels "
                    + "once its aliases are expanded (an alias bomb?); refused before building it")
        }
    }

    private static func walk(_ node: Node, depth: Int, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0, depth <= maxDepth else { return false }
        switch node {
        case .scalar, .alias:
            return true
        case .sequence(let sequence):
            for child in sequence where !walk(child, depth: depth + 1, budget: &budget) { return false }
            return true
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard walk(key, depth: depth + 1, budget: &budget), walk(value, depth: depth + 1, budget: &budget) else { return false }
            }
            return true
        }
    }

    /// A file's text, reading at most `maxBytes` (a config path pointing at a huge file or a device
    /// must not be read whole first). `"-"` is standard input.
    public static func readFile(_ path: String, maxBytes: Int) throws(BoundedYAMLError) -> String {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let opened = FileHandle(forReadingAtPath: path) else { throw BoundedYAMLError("cannot read \(path)") }
            handle = opened
        }
        defer { if path != "-" { try? handle.close() } }
        let data: Data
        do { data = try handle.read(upToCount: maxBytes + 1) ?? Data() } catch { throw BoundedYAMLError("cannot read \(path): \(error)") }
        if data.count > maxBytes { throw BoundedYAMLError("\(path) is more than \(maxBytes) bytes, the most allowed") }
        guard let text = String(data: data, encoding: .utf8) else { throw BoundedYAMLError("\(path) is not UTF-8 text") }
        return text
    }
}

/// A YAML text refused for a bound (size, nodes, depth).
public struct BoundedYAMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
