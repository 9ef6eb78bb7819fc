public import Foundation

/// Writes the files an operator copies onto a host so that an unmodified `osqueryd` enrolls
/// with this Pomona server.
///
/// ```swift
/// try AgentKit.write(
///     to: URL(filePath: "/tmp/pomona-agent"),
///     serverHost: "pomona.example.net", serverPort: 8443,
///     caCertificatePEM: try String(contentsOf: files.caCertificatePath!, encoding: .utf8),
///     enrollSecret: secret
/// )
/// ```
///
/// The directory receives:
///
/// | File | Purpose | Mode |
/// |---|---|---|
/// | `osquery.flags` | flagfile (`--flagfile=`) with every CLI-only flag Pomona relies on | 0644 |
/// | `pomona-ca.pem` | the CA agents pin (`--tls_server_certs`) | 0644 |
/// | `enroll_secret` | the enroll secret, no trailing newline | 0600 |
/// | `io.osquery.agent.plist` | launchd job for macOS | 0644 |
/// | `INSTALL.txt` | step-by-step installation for macOS and Linux | 0644 |
///
/// All paths inside the flagfile and the plist start with `installPrefix`, the directory the
/// files are copied to on the host.
public enum AgentKit {
    /// The osqueryd binary of the official macOS package.
    public static let macOSDaemonPath = "/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd"
    /// The launchd label (and plist base name) the official macOS package uses.
    public static let launchdLabel = "io.osquery.agent"

    /// Writes the agent kit into `directory` (created if needed), replacing earlier kit files.
    ///
    /// - Parameters:
    ///   - directory: Where to write the files.
    ///   - serverHost: The host name or IPv4 address agents connect to; must be covered by the
    ///     server certificate. IPv6 literals are rejected: osquery splits `--tls_hostname` at the first `:`.
    ///   - serverPort: The agent listener's TCP port.
    ///   - caCertificatePEM: The CA certificate(s) agents trust, in PEM.
    ///   - enrollSecret: The shared enroll secret; leading/trailing whitespace is removed (osquery trims it anyway).
    ///   - installPrefix: The directory the files live in on the host (default `/var/osquery`).
    /// - Throws: ``AgentKitError`` for invalid arguments or an unwritable directory.
    public static func write(
        to directory: URL,
        serverHost: String,
        serverPort: Int,
        caCertificatePEM: String,
        enrollSecret: String,
        installPrefix: String = "/var/osquery"
    ) throws(AgentKitError) {
        let flags = try AgentFlags(serverHost: serverHost, serverPort: serverPort, installPrefix: installPrefix)
        let secret = enrollSecret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else {
            throw .invalidArgument("the enroll secret is empty")
        }
        guard caCertificatePEM.contains("-----BEGIN CERTIFICATE-----") else {
            throw .invalidArgument("the CA certificate is not PEM (no BEGIN CERTIFICATE line)")
        }
        var caPEM = caCertificatePEM.trimmingCharacters(in: .whitespacesAndNewlines)
        caPEM += "\n"

        do {
            try SecureFile.makeDirectory(directory, mode: 0o755)
            try SecureFile.write(flags.flagfile(), to: directory.appendingPathComponent(AgentFlags.flagfileName), mode: 0o644)
            try SecureFile.write(caPEM, to: directory.appendingPathComponent(AgentFlags.caFileName), mode: 0o644)
            try SecureFile.write(secret, to: directory.appendingPathComponent(AgentFlags.secretFileName), mode: 0o600)
            try SecureFile.write(
                launchdPlist(installPrefix: flags.installPrefix),
                to: directory.appendingPathComponent("\(launchdLabel).plist"),
                mode: 0o644
            )
            try SecureFile.write(
                installInstructions(installPrefix: flags.installPrefix, hostPort: flags.tlsHostname),
                to: directory.appendingPathComponent("INSTALL.txt"),
                mode: 0o644
            )
        } catch {
            throw .unwritable(error.description)
        }
    }

    /// The flagfile text for the given server, exactly as ``write(to:serverHost:serverPort:caCertificatePEM:enrollSecret:installPrefix:)`` writes it.
    ///
    /// - Throws: ``AgentKitError`` when the host, port or prefix is invalid.
    public static func flagfile(serverHost: String, serverPort: Int, installPrefix: String = "/var/osquery") throws(AgentKitError)
        -> String
    {
        try AgentFlags(serverHost: serverHost, serverPort: serverPort, installPrefix: installPrefix).flagfile()
    }

    /// The launchd property list that runs osqueryd with the kit's flagfile.
    static func launchdPlist(installPrefix: String) -> String {
        let flagfile = "\(installPrefix)/\(AgentFlags.flagfileName)"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
              <key>Label</key>
              <string>\(launchdLabel)</string>
              <key>ProgramArguments</key>
              <array>
                <string>\(xmlEscaped(macOSDaemonPath))</string>
                <string>--flagfile=\(xmlEscaped(flagfile))</string>
              </array>
              <key>RunAtLoad</key>
              <true/>
              <key>KeepAlive</key>
              <true/>
              <key>ThrottleInterval</key>
              <integer>60</integer>
              <key>ProcessType</key>
              <string>Background</string>
              <key>StandardErrorPath</key>
              <string>/var/log/osquery/osqueryd.stderr</string>
            </dict>
            </plist>

            """
    }

    private static func xmlEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
