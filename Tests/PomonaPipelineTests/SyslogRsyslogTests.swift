import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import PomonaPipeline

/// A real rsyslogd (Debian's) receiving from the syslog output; it writes what it parsed, one
/// field per `|`, to a file the tests read back.
final class RsyslogReceiver {
    let directory: String
    let port: Int
    let outputFile: String
    let process = Process()

    static var rsyslogd: String? {
        ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `tls`: (CA, cert, key) for an imtcp listener with the OpenSSL stream driver, TLS only.
    init(port: Int, udp: Bool = false, tls: OutputTestPKI.Files? = nil, clientAuth: Bool = false, directory: String? = nil) throws {
        self.directory = try directory ?? OutputTestEvents.temporaryDirectory()
        self.port = port
        outputFile = self.directory + "/received.log"
        var config = """
            global(workDirectory="\(self.directory)" maxMessageSize="256k"
            """
        if let tls {
            config += """
                 DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="\(tls.ca)"
                 DefaultNetstreamDriverCertFile="\(tls.server)" DefaultNetstreamDriverKeyFile="\(tls.serverKey)"
                """
        }
        config += ")\n"
        if udp {
            config += "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"\(port)\")\n"
        } else if tls != nil {
            let auth = clientAuth ? "x509/certvalid" : "anon"
            config += "module(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"\(auth)\")\n"
            config += "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"\(port)\")\n"
        } else {
            config += "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"\(port)\")\n"
        }
        config += """
            template(name="fields" type="string" string="%PRI%|%TIMESTAMP:::date-rfc3339%|%HOSTNAME%|%APP-NAME%|%PROCID%|%MSGID%|%STRUCTURED-DATA%|%msg%\\n")
            action(type="omfile" file="\(outputFile)" template="fields")

            """
        try config.write(toFile: self.directory + "/rsyslog.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.rsyslogd ?? "/usr/sbin/rsyslogd")
        process.arguments = ["-n", "-f", self.directory + "/rsyslog.conf", "-i", self.directory + "/rsyslogd.pid"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let errorLog = self.directory + "/rsyslogd.stderr"
        _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorLog)
        try process.run()
    }

    /// Waits until the TCP listener accepts connections (UDP: until rsyslogd had time to bind).
    func waitUntilListening(udp: Bool = false) async throws {
        for _ in 0..<300 {
            if !process.isRunning { break }
            if udp {
                // imudp binds while starting; its pid file appears once start-up is done.
                if FileManager.default.fileExists(atPath: directory + "/rsyslogd.pid") {
                    try await Task.sleep(for: .milliseconds(200))
                    return
                }
            } else if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let stderr = (try? String(contentsOfFile: directory + "/rsyslogd.stderr", encoding: .utf8)) ?? ""
        throw RsyslogError(message: "rsyslogd did not start listening on \(port): \(stderr)")
    }

    /// The received lines once at least `count` arrived (or what there is after ~30 s on a loaded machine).
    func lines(atLeast count: Int) async throws -> [String] {
        var lines: [String] = []
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            lines = text.split(separator: "\n").map(String.init)
            if lines.count >= count { return lines }
            try await Task.sleep(for: .milliseconds(50))
        }
        return lines
    }

    /// SIGKILL, because the test process's threads block SIGTERM and a spawned child inherits that
    /// mask (rsyslogd would never see the TERM). Callers have read what they need first.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<100 where process.isRunning { usleep(50_000) }
    }

    deinit { stop() }

    struct RsyslogError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

@Suite(.serialized) struct SyslogRsyslogTests {
    /// In CI (`CI=true`) rsyslog must be there (`.ci/run` installs it); elsewhere the tests say why
    /// they did nothing.
    static var rsyslogAvailable: Bool {
        if RsyslogReceiver.rsyslogd != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }  // fail loudly below
        print("SyslogRsyslogTests skipped: rsyslogd is not installed (apt-get install rsyslog rsyslog-openssl)")
        return false
    }

    static var opensslDriverAvailable: Bool {
        let paths = ["/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so", "/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_ossl.so",
                     "/usr/lib/rsyslog/lmnsd_ossl.so"]
        if paths.contains(where: FileManager.default.fileExists(atPath:)) { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        print("syslog TLS test skipped: rsyslog-openssl is not installed")
        return false
    }

    func makeSyslog(port: Int, transport: SyslogOutputConfiguration.Transport,
                    _ edit: (inout SyslogOutputConfiguration) -> Void = { _ in }) throws -> any EventOutput {
        var configuration = SyslogOutputConfiguration(name: "syslog", host: "127.0.0.1", port: port, transport: transport)
        edit(&configuration)
        return try makeOutput(.syslog(configuration))
    }

    /// `PRI|TIMESTAMP|HOSTNAME|APP-NAME|PROCID|MSGID|SD|MSG` as rsyslog parsed it.
    func fields(_ line: String) -> [String] {
        line.split(separator: "|", maxSplits: 7, omittingEmptySubsequences: false).map(String.init)
    }

    @Test(.enabled(if: rsyslogAvailable)) func octetCountedTCPIsParsedByRsyslog() async throws {
        let port = try await FakeHTTPServer.unusedPort()
        let rsyslog = try RsyslogReceiver(port: port)
        defer { rsyslog.stop() }
        try await rsyslog.waitUntilListening()
        let output = try makeSyslog(port: port, transport: .tcp)
        var events = OutputTestEvents.results(50)
        // A multi-line event: with octet counting it stays one message.
        events.append(OutputTestEvents.event("{\"a\":1,\n\"b\":\"x]\\\"y\"}", sourcetype: "osquery:status", id: "st\"1", host: "mac-z"))
        #expect(await output.send(events) == .delivered)
        await output.shutdown()

        let lines = try await rsyslog.lines(atLeast: events.count)
        #expect(lines.count == events.count)
        let first = fields(lines[0])
        #expect(first[0] == "134")
        #expect(first[1].hasPrefix("2025-05-18T12:29:58.123"))
        #expect(Array(first[2...6]) == ["mac-0", "pomona", "-", "osquery:result", "[pomona@32473 id=\"ev-0\"]"])
        #expect(first[7] == String(buffer: events[0].body), "the event JSON arrives as sent")
        let last = fields(lines[50])
        #expect(Array(last[2...6]) == ["mac-z", "pomona", "-", "osquery:status", #"[pomona@32473 id="st\"1"]"#])
        #expect(last[7] == "{\"a\":1, \"b\":\"x]\\\"y\"}")
        #expect(lines.map { fields($0)[2] }.prefix(50) == ArraySlice(events.prefix(50).map(\.host)), "in order, none lost")
    }

    @Test(.enabled(if: rsyslogAvailable)) func reconnectsAfterTheReceiverRestarts() async throws {
        let port = try await FakeHTTPServer.unusedPort()
        let directory = try OutputTestEvents.temporaryDirectory()
        var rsyslog = try RsyslogReceiver(port: port, directory: directory)
        try await rsyslog.waitUntilListening()
        let output = try makeSyslog(port: port, transport: .tcp) { $0.common.timeoutSeconds = 2 }
        #expect(await output.send(OutputTestEvents.results(5)) == .delivered)
        _ = try await rsyslog.lines(atLeast: 5)
        rsyslog.stop()

        // Receiver down: the send is classified for retry, not lost silently.
        var down = await output.send(OutputTestEvents.results(5, start: 5))
        for _ in 0..<3 where down.retry.isEmpty {
            // The first write after the peer closed can still be accepted by the kernel; the next one sees the reset.
            down = await output.send(OutputTestEvents.results(5, start: 5))
        }
        #expect(down.retry == [0, 1, 2, 3, 4])

        rsyslog = try RsyslogReceiver(port: port, directory: directory)
        defer { rsyslog.stop() }
        try await rsyslog.waitUntilListening()
        let back = await output.send(OutputTestEvents.results(5, start: 5))
        #expect(back == .delivered)
        await output.shutdown()
        let lines = try await rsyslog.lines(atLeast: 10)
        let hosts = Set(lines.map { fields($0)[2] })
        #expect(Set((0..<10).map { "mac-\($0)" }).isSubset(of: hosts), "everything retried arrived after the reconnect")
        #expect(await (output as! SyslogOutput).connectionsOpened >= 2)
    }

    @Test(.enabled(if: rsyslogAvailable)) func udpOneMessagePerDatagramWithTruncationCounted() async throws {
        let port = try await FakeHTTPServer.unusedPort()
        let rsyslog = try RsyslogReceiver(port: port, udp: true)
        defer { rsyslog.stop() }
        try await rsyslog.waitUntilListening(udp: true)
        let output = try makeSyslog(port: port, transport: .udp) { $0.maxMessageBytes = 600 }
        var events = OutputTestEvents.results(5)
        events[2].body = ByteBuffer(string: "{\"long\":\"" + String(repeating: "z", count: 2000) + "\"}")
        let result = await output.send(events)
        await output.shutdown()
        #expect(result.retry.isEmpty && result.rejected.isEmpty && result.truncated == 1)
        let lines = try await rsyslog.lines(atLeast: 5)
        #expect(lines.count == 5)
        #expect(lines.map { fields($0)[2] } == ["mac-0", "mac-1", "mac-2", "mac-3", "mac-4"])
        let cut = fields(lines[2])[7]
        #expect(cut.hasPrefix("{\"long\":\"zzz") && cut.count < 600)
    }

    @Test(.enabled(if: rsyslogAvailable && opensslDriverAvailable)) func tlsWithCustomCAAndClientCertificate() async throws {
        let pki = try OutputTestPKI.writeFiles()
        let port = try await FakeHTTPServer.unusedPort()
        let rsyslog = try RsyslogReceiver(port: port, tls: pki, clientAuth: true)
        defer { rsyslog.stop() }
        try await rsyslog.waitUntilListening()

        let untrusted = try makeSyslog(port: port, transport: .tls) { $0.tls = OutputTLSConfiguration(caFile: pki.otherCA) }
        let refused = await untrusted.send(OutputTestEvents.results(1))
        #expect(refused.retry == [0], "an unknown server certificate is refused: verification is on")
        await untrusted.shutdown()

        let output = try makeSyslog(port: port, transport: .tls) {
            $0.tls = OutputTLSConfiguration(caFile: pki.ca, clientCertificate: pki.client, clientKey: pki.clientKey)
        }
        let events = OutputTestEvents.results(20)
        #expect(await output.send(events) == .delivered)
        await output.shutdown()
        let lines = try await rsyslog.lines(atLeast: 20)
        #expect(lines.map { fields($0)[2] } == events.map(\.host))
        #expect(lines.map { fields($0)[7] } == events.map { String(buffer: $0.body) })
    }
}
