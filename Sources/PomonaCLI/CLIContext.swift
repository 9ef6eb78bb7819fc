import Foundation
import PomonaPipeline
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One server the CLI talks to, as fleetctl keeps it per context: address, login, token, trust.
struct CLIContext: Codable, Sendable, Equatable {
    var address: String
    var email: String?
    var token: String?
    /// PEM file of the CA that signed the admin listener's certificate (`tls/ca.pem` of the data dir).
    var rootca: String?
    var tlsSkipVerify: Bool?

    static let defaultAddress = "https://127.0.0.1:9443"

    enum CodingKeys: String, CodingKey {
        case address, email, token, rootca
        case tlsSkipVerify = "tls-skip-verify"
    }

    init(address: String = CLIContext.defaultAddress, email: String? = nil, token: String? = nil, rootca: String? = nil, tlsSkipVerify: Bool? = nil) {
        self.address = address
        self.email = email
        self.token = token
        self.rootca = rootca
        self.tlsSkipVerify = tlsSkipVerify
    }

    /// `host:port` or a URL, as typed, becomes `https://host:port` without a trailing slash.
    static func normalizedAddress(_ text: String) -> String {
        var address = text.trimmingCharacters(in: .whitespaces)
        if !address.contains("://") { address = "https://" + address }
        while address.hasSuffix("/") { address.removeLast() }
        return address
    }
}

/// `~/.config/pomona/config.yml`: named contexts and which one is current. Holds tokens, so it is
/// written with mode 0600 (its directory 0700), atomically (a crash never leaves half a file).
struct CLIConfigFile: Codable, Sendable, Equatable {
    var currentContext: String?
    var contexts: [String: CLIContext]

    static let defaultContextName = "default"

    enum CodingKeys: String, CodingKey {
        case currentContext = "current_context"
        case contexts
    }

    init(currentContext: String? = nil, contexts: [String: CLIContext] = [:]) {
        self.currentContext = currentContext
        self.contexts = contexts
    }

    /// Where the file lives: `--config`, else `POMONA_CLI_CONFIG`, else `$XDG_CONFIG_HOME/pomona/config.yml`,
    /// else `~/.config/pomona/config.yml`.
    static func path(override: String?, environment: [String: String], home: String) -> String {
        if let override, !override.isEmpty { return override }
        if let value = environment["POMONA_CLI_CONFIG"], !value.isEmpty { return value }
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/pomona/config.yml" }
        return home + "/.config/pomona/config.yml"
    }

    /// The file at `path`, or an empty configuration when there is none yet.
    static func load(path: String) throws(CLIError) -> CLIConfigFile {
        guard FileManager.default.fileExists(atPath: path) else { return CLIConfigFile() }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CLIError("cannot read \(path): \(error.localizedDescription)")
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return CLIConfigFile() }
        do {
            _ = try BoundedYAML.compose(text, maxBytes: BoundedYAML.maxConfigBytes)
            return try YAMLDecoder().decode(CLIConfigFile.self, from: text)
        } catch {
            throw CLIError("\(path) is not a valid pomona CLI config (\(error)); fix it or remove it and run `pomona login` again")
        }
    }

    /// Writes to a temporary file with mode 0600 in the same directory, then renames it over `path`.
    func save(path: String) throws(CLIError) {
        let text: String
        do {
            text = try YAMLEncoder().encode(self)
        } catch {
            throw CLIError("cannot encode the CLI config: \(error)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CLIError("cannot create \(directory): \(error.localizedDescription)")
            }
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 {
                close(fd)
                unlink(temporary)
                throw CLIError("cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        // The mode of an existing temporary file is not changed by open(); make sure.
        fchmod(fd, 0o600)
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
    }
}
