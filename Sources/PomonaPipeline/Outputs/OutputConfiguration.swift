/// One entry of the pipeline file's `outputs:` list; `type` picks the kind:
///
/// ```yaml
/// - name: splunk
///   type: splunk_hec        # splunk_hec | elasticsearch | opensearch | syslog | http | file
///   url: https://splunk.example.com:8088
///   token: 00000000-0000-0000-0000-000000000000
/// ```
///
/// Decoding rejects unknown keys and names the offending key; ``validate()`` (called by
/// ``makeOutput(_:logger:)``) checks what needs the machine: URLs, readable TLS files, writable
/// directories.
public enum OutputConfiguration: Sendable, Equatable, Decodable {
    case splunkHEC(SplunkHECOutputConfiguration)
    case elasticsearch(ElasticsearchOutputConfiguration)
    case syslog(SyslogOutputConfiguration)
    case http(HTTPOutputConfiguration)
    case file(FileOutputConfiguration)

    public static let types = ["splunk_hec", "elasticsearch", "opensearch", "syslog", "http", "file"]

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: nil)
        guard let type = try reader.choice("type", Self.types) else {
            throw reader.error("type", "is required (one of \(Self.types.joined(separator: ", ")))")
        }
        switch type {
        case "splunk_hec": self = .splunkHEC(try SplunkHECOutputConfiguration(from: decoder))
        case "elasticsearch", "opensearch": self = .elasticsearch(try ElasticsearchOutputConfiguration(from: decoder))
        case "syslog": self = .syslog(try SyslogOutputConfiguration(from: decoder))
        case "http": self = .http(try HTTPOutputConfiguration(from: decoder))
        default: self = .file(try FileOutputConfiguration(from: decoder))
        }
    }

    public var common: OutputCommonSettings {
        switch self {
        case .splunkHEC(let c): c.common
        case .elasticsearch(let c): c.common
        case .syslog(let c): c.common
        case .http(let c): c.common
        case .file(let c): c.common
        }
    }

    public var name: String { common.name }
}
