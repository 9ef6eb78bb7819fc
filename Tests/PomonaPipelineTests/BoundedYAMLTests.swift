import Foundation
import Testing
import Yams

@testable import PomonaPipeline

/// An alias bomb: nine levels of nine aliases, 10^9 nodes once expanded, under 400 bytes.
/// (`Yams.load` of it grew to 2.8 GB before the process died.)
func aliasBomb(indent: String = "") -> String {
    var lines = [indent + #"a: &a ["lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol","lol-lol"]"#]
    var previous = "a"
    for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
        lines.append(indent + "\(name): &\(name) [" + Array(repeating: "*" + previous, count: 9).joined(separator: ",") + "]")
        previous = name
    }
    return lines.joined(separator: "\n") + "\n"
}

@Suite struct BoundedYAMLTests {
    @Test func anAliasBombIsRefusedBeforeItIsBuilt() throws {
        let bomb = aliasBomb()
        #expect(bomb.utf8.count < 400)
        for attempt in [{ _ = try BoundedYAML.load(bomb, maxBytes: 1 << 20) }, { _ = try BoundedYAML.composeAll(bomb, maxBytes: 1 << 20) }] {
            #expect {
                try attempt()
            } throws: { error in
                (error as? BoundedYAMLError)?.message.hasPrefix("document 1 has more than 2000000 nodes or 1000 levels once its aliases are expanded") == true
            }
        }
    }

    @Test func ordinaryAliasesStillWork() throws {
        let yaml = "defaults: &d {interval: 60, platform: darwin}\na: *d\nb: {<<: *d, interval: 30}\n"
        let value = try #require(try BoundedYAML.load(yaml, maxBytes: 1 << 20) as? [String: Any])
        #expect((value["a"] as? [String: Any])?["interval"] as? Int == 60)
        #expect((value["b"] as? [String: Any])?["interval"] as? Int == 30)
        #expect(try BoundedYAML.load("", maxBytes: 10) == nil)
    }

    @Test func theTextAndTheFileAreBounded() throws {
        #expect(throws: BoundedYAMLError("the YAML text is 11 bytes, more than the 10 allowed")) {
            try BoundedYAML.composeAll("a: 1234567\n", maxBytes: 10)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bounded-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: UInt8(ascii: "a"), count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(try BoundedYAML.readFile(path, maxBytes: 4096).utf8.count == 4096)
        #expect(throws: BoundedYAMLError("\(path) is more than 4095 bytes, the most allowed")) {
            try BoundedYAML.readFile(path, maxBytes: 4095)
        }
        #expect(throws: BoundedYAMLError("cannot read /nonexistent/pomona.yml")) { try BoundedYAML.readFile("/nonexistent/pomona.yml", maxBytes: 10) }
    }

    @Test func thePipelineSectionIsBoundedToo() {
        // PipelineConfiguration.load decodes with YAMLDecoder, which would expand a bomb under `pipeline:`.
        let yaml = "pipeline:\n  spool: {}\n" + aliasBomb(indent: "  x-")
        #expect {
            _ = try PipelineConfiguration.load(yaml: yaml, source: "pomona.yml")
        } throws: { error in
            "\(error)".contains("pomona.yml: document 1 has more than")
        }
    }
}
