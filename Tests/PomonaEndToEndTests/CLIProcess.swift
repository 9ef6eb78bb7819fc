import Foundation
import Testing

/// `pomona <args>` as a subprocess with its own CLI config file, output captured to files (no pipe
/// can fill up and block it).
struct CLIProcess {
    let configPath: String
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-cli-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configPath = directory.appendingPathComponent("config/pomona.yml").path
    }

    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }

    /// A started process; ``wait()`` collects its output.
    final class Running: @unchecked Sendable {
        // Why @unchecked: Process is used from one task at a time (start, then wait); the URLs are immutable.
        let process: Process
        let stdoutURL: URL
        let stderrURL: URL

        init(process: Process, stdoutURL: URL, stderrURL: URL) {
            self.process = process
            self.stdoutURL = stdoutURL
            self.stderrURL = stderrURL
        }

        var isRunning: Bool { process.isRunning }

        /// Waits for the exit without blocking the cooperative pool.
        func wait() async -> Result {
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus,
                stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
        }

        func stop() {
            if process.isRunning { process.terminate() }
        }
    }

    func start(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = PomonaProcess.binary
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["POMONA_CLI_CONFIG"] = configPath
        environment.removeValue(forKey: "POMONA_API_TOKEN")
        environment.removeValue(forKey: "POMONA_CONTEXT")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.currentDirectoryURL = directory
        let id = UUID().uuidString
        let stdoutURL = directory.appendingPathComponent("\(id).out")
        let stderrURL = directory.appendingPathComponent("\(id).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        if let stdin {
            let input = directory.appendingPathComponent("\(id).in")
            try stdin.write(to: input, atomically: true, encoding: .utf8)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return Running(process: process, stdoutURL: stdoutURL, stderrURL: stderrURL)
    }

    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) async throws -> Result {
        await try start(arguments, stdin: stdin, environment: environment).wait()
    }

    /// Writes `text` to a file in the test directory and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: directory)
    }
}
