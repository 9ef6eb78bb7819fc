/// `type: syslog`: RFC 5424 messages over TCP (RFC 6587 octet counting), TLS (RFC 5425) or UDP
/// (RFC 5426).
public struct SyslogOutputConfiguration: Sendable, Equatable, Decodable {
    public enum Transport: String, Sendable, Equatable, CaseIterable {
        case tcp, tls, udp
    }

    public var common: OutputCommonSettings
    /// Receiver host name or IP.
    public var host: String
    /// Receiver port (default 514, or 6514 for TLS).
    public var port: Int
    public var transport: Transport
    public var tls: OutputTLSConfiguration
    /// Facility code 0–23 (`local0` = 16).
    public var facility: Int
    /// Severity code 0–7 (`info` = 6).
    public var severity: Int
    public var appName: String
    /// Largest message (header + event) sent; longer events are cut and counted as truncated.
    /// 0 = no limit (TCP/TLS default; the receiver's own limit applies).
    public var maxMessageBytes: Int
    /// SD-ID of the structured-data element carrying the event id (`[pomona@32473 id="…"]`);
    /// empty = no structured data (`-`).
    public var structuredDataID: String

    public static let defaults = OutputCommonSettings(
        name: "", batch: OutputBatchConfiguration(maxEvents: 1000, maxBytes: 1_000_000), concurrency: 1, timeoutSeconds: 10)

    public static let facilities: [String: Int] = [
        "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8, "cron": 9,
        "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14, "solaris-cron": 15,
        "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
    ]
    public static let severities: [String: Int] = [
        "emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7,
    ]

    public init(name: String, host: String, port: Int, transport: Transport) {
        common = Self.defaults
        common.name = name
        self.host = host
        self.port = port
        self.transport = transport
        tls = OutputTLSConfiguration()
        facility = 16
        severity = 6
        appName = "pomona"
        maxMessageBytes = transport == .udp ? 8192 : 0
        structuredDataID = "pomona@32473"
    }

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: OutputCommonSettings.keys.union([
            "host", "port", "transport", "tls", "facility", "severity", "app_name", "max_message_bytes", "structured_data_id",
        ]))
        // One connection keeps the receiver's view in order; more would only reorder events.
        common = try OutputCommonSettings(reader, defaults: Self.defaults, maxConcurrency: 1)
        host = try reader.required("host")
        let transportName = try reader.choice("transport", Transport.allCases.map(\.rawValue)) ?? "tcp"
        transport = Transport(rawValue: transportName)!
        port = try reader.integer("port", in: 1...65535) ?? (transport == .tls ? 6514 : 514)
        tls = try reader.optional("tls") ?? OutputTLSConfiguration()
        if reader.contains("tls"), transport != .tls {
            throw reader.error("tls", "is only used with transport: tls")
        }
        facility = try Self.code(reader, "facility", Self.facilities, 0...23) ?? 16
        severity = try Self.code(reader, "severity", Self.severities, 0...7) ?? 6
        appName = try reader.optional("app_name") ?? "pomona"
        if appName.isEmpty || appName.utf8.count > 48 || !appName.utf8.allSatisfy({ (33...126).contains($0) }) {
            throw reader.error("app_name", "must be 1–48 printable ASCII characters without spaces")
        }
        maxMessageBytes = try reader.integer("max_message_bytes", in: 0...16_777_216) ?? (transport == .udp ? 8192 : 0)
        if transport == .udp, maxMessageBytes == 0 || maxMessageBytes > 65_507 {
            throw reader.error("max_message_bytes", "must be between 480 and 65507 for UDP")
        }
        if maxMessageBytes != 0, maxMessageBytes < 480 {
            throw reader.error("max_message_bytes", "must be 0 (no limit) or at least 480 (RFC 5424 §6.1)")
        }
        structuredDataID = try reader.optional("structured_data_id") ?? "pomona@32473"
        if !structuredDataID.isEmpty, !SyslogMessageFormatter.isValidSDName(structuredDataID) {
            throw reader.error("structured_data_id", "must be 1–32 printable ASCII characters without = ] \" or space")
        }
    }

    /// A facility/severity given by name (`local0`) or number.
    private static func code(_ reader: ConfigReader, _ key: String, _ names: [String: Int], _ range: ClosedRange<Int>)
        throws(DecodingError) -> Int?
    {
        if let number = try? reader.optional(key, Int.self) {
            guard range.contains(number) else {
                throw reader.error(key, "must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return number
        }
        guard let name: String = try reader.optional(key) else { return nil }
        guard let code = names[name.lowercased()] else {
            throw reader.error(
                key, "\"\(name)\" is not one of \(names.sorted { $0.value < $1.value }.map(\.key).joined(separator: ", "))")
        }
        return code
    }
}
