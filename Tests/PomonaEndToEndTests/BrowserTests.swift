import Foundation
import PomonaServer
import PomonaSimulator
import Testing

/// The admin page in real headless Chromium (Debian's `chromium`, driven over the DevTools pipe by
/// `Web/tests/browser/run.mjs` under Node) against the real server — embedded page, TLS, cookies —
/// with 60 simulated hosts checking in: first-run setup, sign out and in, dashboard counts, hosts
/// (filter, sort, page, reload), a host, a live query streaming in and its CSV, session expiry,
/// 400 px, keyboard; no console error, no CSP violation, no request off the origin, the session
/// cookie invisible to scripts.
///
/// Needs `node` and `chromium` (`.ci/run` installs them); without them the test fails and says so.
/// `POMONA_SKIP_BROWSER_TESTS=1` skips it on purpose; `POMONA_SCREENSHOTS=Web/screenshots`
/// refreshes the committed screenshots.
@Suite(.serialized) struct BrowserTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func executable(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            if name.hasPrefix("/") { if FileManager.default.isExecutableFile(atPath: name) { return name } else { continue } }
            for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }

    @Test(.timeLimit(.minutes(6))) func theAdminPageWorksInHeadlessChromium() async throws {
        let environment = ProcessInfo.processInfo.environment
        if environment["POMONA_SKIP_BROWSER_TESTS"] == "1" { return }
        guard let node = Self.executable(["node"]) else {
            Issue.record("node is not installed: apt-get install -y nodejs (or set POMONA_SKIP_BROWSER_TESTS=1)")
            return
        }
        guard let chromium = Self.executable([environment["CHROMIUM"] ?? "chromium", "chromium", "chromium-browser"]) else {
            Issue.record("chromium is not installed: apt-get install -y chromium (or set POMONA_SKIP_BROWSER_TESTS=1)")
            return
        }

        let running = try await RunningServer.start()
        let hosts = 60  // more than one page of 50, so paging is exercised
        var options = FleetSimulation.Options(baseURL: running.baseURL, caPEM: try running.caPEM, enrollSecret: RunningServer.secret)
        options.hosts = hosts
        options.speedup = 10  // check-ins every second: live queries answer quickly
        options.duration = .seconds(330)
        options.seed = 5
        let simulation = Task { try await FleetSimulation(options: options).run() }

        let screenshots = environment["POMONA_SCREENSHOTS"].map { URL(fileURLWithPath: $0, relativeTo: Self.repository).path }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("pomona-browser-\(UUID().uuidString)").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pomona-browser-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: node)
        process.arguments = [
            Self.repository.appendingPathComponent("Web/tests/browser/run.mjs").path,
            "--origin", "https://127.0.0.1:\(running.addresses.adminPort)",
            "--cert", running.server.tlsFiles.certificateChainPath.path,
            "--hosts", String(hosts),
            "--screenshots", screenshots,
        ]
        process.environment = environment.merging(["CHROMIUM": chromium]) { _, new in new }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // Waiting on a child process: poll its exit without blocking the cooperative pool (the
        // time limit above bounds it).
        while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        process.waitUntilExit()
        try handle.close()
        simulation.cancel()
        _ = try? await simulation.value
        await running.stop()

        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "browser test failed (screenshots in \(screenshots)):\n\(log)")
        #expect(log.contains("# all ") && log.contains(" checks passed"), "\(log)")
        print(log)
    }
}
