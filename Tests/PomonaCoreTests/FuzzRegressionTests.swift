import Foundation
import Testing
@testable import PomonaCore

/// Replays every input kept in `Tests/Fuzz/regressions/core/` (crashes found by `.ci/fuzz`'s core
/// target, plus hand-picked edge cases) through the same properties that target checks. The
/// pipeline target's inputs (`regressions/pipeline/`) are replayed by PipelineFuzzRegressionTests
/// in PomonaEndToEndTests, the one test target that links every module those checks use.
@Suite struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/regressions/core")

    static var inputs: [URL] {
        (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
    }

    @Test func regressionDirectoryIsNotEmpty() {
        #expect(Self.inputs.count >= 3, "expected the kept inputs in \(Self.directory.path)")
    }

    @Test(arguments: inputs)
    func keptInputHoldsTheFuzzProperties(_ file: URL) throws {
        let bytes = try [UInt8](Data(contentsOf: file))
        let parsed = bytes.withUnsafeBufferPointer(Self.parse)
        let skips = bytes.withUnsafeBufferPointer(Self.skips)
        #expect((parsed != nil) == skips, "parseValue and skipValue disagree on \(file.lastPathComponent)")
        if let parsed {
            let again = parsed.encoded().withUnsafeBufferPointer(Self.parse)
            #expect(again == parsed)
            _ = try? AgentOptions(config: parsed)
            _ = EnrollmentDetails.vitals(from: parsed)
        }
        _ = try? OsqueryPackImporter.parse(data: Data(bytes), packName: "regression")
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var scanner = JSONScanner(bytes)
        guard let value = try? scanner.parseValue(), (try? scanner.expectEnd()) != nil else { return nil }
        return value
    }

    static func skips(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = JSONScanner(bytes)
        return (try? scanner.skipValue()) != nil && (try? scanner.expectEnd()) != nil
    }
}
