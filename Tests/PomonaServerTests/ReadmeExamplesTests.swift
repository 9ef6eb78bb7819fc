import Foundation
import Testing

@testable import PomonaServer

/// Every YAML example in README.md is loaded as the server would load a `--config` file, so the
/// documentation cannot drift from what the server accepts: a reader copies these first.
@Suite struct ReadmeExamplesTests {
    static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    /// The README's fenced `yaml` blocks, each with the line its text starts on.
    static func yamlBlocks() throws -> [(line: Int, text: String)] {
        let lines = try String(contentsOf: readme, encoding: .utf8).components(separatedBy: "\n")
        var blocks: [(Int, String)] = []
        var start: Int?
        var body: [String] = []
        for (index, line) in lines.enumerated() {
            if let first = start {
                if line.hasPrefix("```") {
                    blocks.append((first, body.joined(separator: "\n")))
                    start = nil
                    body = []
                } else {
                    body.append(line)
                }
            } else if line.hasPrefix("```yaml") {
                start = index + 2
            }
        }
        return blocks
    }

    @Test func theReadmeHasYAMLExamples() throws {
        #expect(try Self.yamlBlocks().count >= 5)
    }

    /// A pipeline example that shows routes or stages names outputs it does not define; it is
    /// loaded together with the README's outputs example, as a reader would combine them.
    static func completed(_ text: String, outputsExample: String?) -> String {
        guard text.hasPrefix("pipeline:"), !text.contains("\n  outputs:"), let outputsExample else { return text }
        let outputs = outputsExample.components(separatedBy: "\n").dropFirst().joined(separator: "\n")
        return text + "\n" + outputs
    }

    @Test(arguments: try yamlBlocks().map(\.line))
    func everyYAMLExampleLoads(line: Int) throws {
        let blocks = try Self.yamlBlocks()
        let block = try #require(blocks.first { $0.line == line }).text
        let outputsExample = blocks.first { $0.text.hasPrefix("pipeline:\n  outputs:") }?.text

        // The examples name files under /etc/pomona and /var/lib/pomona; they are made in a
        // temporary directory standing in for both: tokens, and PEM files holding a real CA.
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let tls = try CertificateAuthority.loadOrCreate(directory: root.url.appendingPathComponent("tls"), serverNames: [])
        var text = Self.completed(block, outputsExample: outputsExample)
        for prefix in ["/etc/pomona/", "/var/lib/pomona/", "/var/lib/pomona"] {
            text = text.replacingOccurrences(of: prefix, with: root.url.path + "/" + (prefix.hasSuffix("/") ? "" : "data"))
        }
        try FileManager.default.createDirectory(at: root.url.appendingPathComponent("logs"), withIntermediateDirectories: true)
        for path in text.split(whereSeparator: { " \n{},".contains($0) }).map(String.init)
        where path.hasPrefix(root.url.path) && !FileManager.default.fileExists(atPath: path) {
            if path.hasSuffix(".pem") {
                try FileManager.default.copyItem(at: try #require(tls.caCertificatePath), to: URL(fileURLWithPath: path))
            } else if path.hasSuffix(".token") {
                try "a-long-random-token-from-a-file".write(toFile: path, atomically: true, encoding: .utf8)
            }
        }

        var configuration = ServerConfiguration()
        do {
            try configuration.apply(yaml: text, source: "README.md:\(line)")
            try configuration.validate()
        } catch {
            Issue.record("README.md line \(line): \(error.message)")
        }
    }
}
