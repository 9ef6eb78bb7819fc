import Foundation
import NIOCore
import Testing
@testable import PomonaPipeline

@Suite struct FileOutputTests {
    @Test func writesOneFilePerSourcetypeLikeTodaysLogFiles() async throws {
        let directory = try OutputTestEvents.temporaryDirectory()
        let output = try makeOutput(.file(FileOutputConfiguration(name: "logs", path: directory + "/logs/{sourcetype}.log")))
        let results = OutputTestEvents.results(3)
        let status = OutputTestEvents.event("{\"severity\":\"0\",\n\"message\":\"started\"}", sourcetype: "osquery:status")
        #expect(await output.send([results[0], status, results[1], results[2]]) == .delivered)
        await output.shutdown()
        let resultText = try String(contentsOfFile: directory + "/logs/osquery_result.log", encoding: .utf8)
        #expect(resultText == results.map { String(buffer: $0.body) + "\n" }.joined())
        let statusText = try String(contentsOfFile: directory + "/logs/osquery_status.log", encoding: .utf8)
        #expect(statusText == "{\"severity\":\"0\", \"message\":\"started\"}\n")
    }

    @Test func sourcetypeCannotEscapeTheDirectory() {
        #expect(FilePathTemplate.fileComponent("osquery:result") == "osquery_result")
        #expect(FilePathTemplate.fileComponent("../../etc/passwd") == ".._.._etc_passwd")
        #expect(FilePathTemplate.fileComponent("..") == "_")
        #expect(FilePathTemplate.fileComponent("") == "_")
    }

    @Test func rotatesBySizeAndKeepsNFiles() async throws {
        let directory = try OutputTestEvents.temporaryDirectory()
        var configuration = FileOutputConfiguration(name: "archive", path: directory + "/{sourcetype}.ndjson", maxFileMB: 1, keepFiles: 2)
        configuration.fsync = false
        let output = try makeOutput(.file(configuration))
        // 5 batches of ~600 KB: rotation after every second batch or so.
        let line = "{\"pad\":\"" + String(repeating: "p", count: 6000) + "\"}"
        var written = 0
        for batch in 0..<5 {
            let events = (0..<100).map { i in OutputTestEvents.event(line, sourcetype: "collector:web", id: "\(batch)-\(i)") }
            #expect(await output.send(events) == .delivered)
            written += 100
        }
        await output.shutdown()
        let base = directory + "/collector_web.ndjson"
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: base + ".1") && fm.fileExists(atPath: base + ".2"))
        #expect(!fm.fileExists(atPath: base + ".3"), "only keep_files rotated files are kept")
        for path in [base + ".1", base + ".2"] {
            let size = try fm.attributesOfItem(atPath: path)[.size] as! Int
            #expect(size >= 1 << 20, "a file rotates only once past max_file_mb")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.split(separator: "\n").allSatisfy { $0 == Substring(line) }, "whole lines only")
        }
    }

    @Test func unwritableFileMeansRetryAndNoPartialLine() async throws {
        let directory = try OutputTestEvents.temporaryDirectory()
        // A directory where the file should be: open() fails.
        try FileManager.default.createDirectory(atPath: directory + "/osquery_result.log", withIntermediateDirectories: true)
        let output = try makeOutput(.file(FileOutputConfiguration(name: "f", path: directory + "/{sourcetype}.log")))
        let events = OutputTestEvents.results(2) + [OutputTestEvents.event("{}", sourcetype: "osquery:status")]
        let result = await output.send(events)
        await output.shutdown()
        #expect(result.retry == [0, 1] && result.rejected.isEmpty)
        #expect(result.retryReason?.hasPrefix("open ") == true)
        #expect(try String(contentsOfFile: directory + "/osquery_status.log", encoding: .utf8) == "{}\n", "the other file is written")
    }
}
