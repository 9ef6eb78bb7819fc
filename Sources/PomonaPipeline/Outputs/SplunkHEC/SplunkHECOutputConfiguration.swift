/// `type: splunk_hec`: Splunk HTTP Event Collector, event endpoint.
public struct SplunkHECOutputConfiguration: Sendable, Equatable, Decodable {
    public var common: OutputCommonSettings
    /// Base URL of the collector (`https://splunk.example.com:8088`); `/services/collector/event` is
    /// appended unless the path already names the collector.
    public var url: String
    /// The HEC token, sent as `Authorization: Splunk <token>`.
    public var token: String
    /// Index for every event (omit to use the token's default index).
    public var index: String?
    /// Index per event sourcetype, overriding `index`.
    public var indexes: [String: String]
    /// HEC `source` of every event.
    public var source: String
    /// HEC sourcetype per event sourcetype (events not listed keep their own).
    public var sourcetypes: [String: String]
    /// gzip request bodies.
    public var gzip: Bool
    /// The `X-Splunk-Request-Channel` GUID (a random one per start when omitted).
    public var channel: String?
    /// When set, the event id is sent as this index-time field (`fields`), for SIEM-side dedup.
    public var eventIDField: String?
    public var tls: OutputTLSConfiguration

    public static let defaults = OutputCommonSettings(
        name: "", batch: OutputBatchConfiguration(maxEvents: 5000, maxBytes: 1_000_000), concurrency: 2, timeoutSeconds: 30)

    public init(name: String, url: String, token: String) {
        common = Self.defaults
        common.name = name
        self.url = url
        self.token = token
        index = nil
        indexes = [:]
        source = "pomona"
        sourcetypes = [:]
        gzip = false
        channel = nil
        eventIDField = nil
        tls = OutputTLSConfiguration()
    }

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: OutputCommonSettings.keys.union([
            "url", "token", "index", "indexes", "source", "sourcetypes", "gzip", "channel", "event_id_field", "tls",
        ]))
        common = try OutputCommonSettings(reader, defaults: Self.defaults)
        url = try reader.required("url")
        token = try reader.required("token")
        index = try reader.optional("index")
        indexes = try reader.optional("indexes") ?? [:]
        source = try reader.optional("source") ?? "pomona"
        sourcetypes = try reader.optional("sourcetypes") ?? [:]
        gzip = try reader.optional("gzip") ?? false
        channel = try reader.optional("channel")
        eventIDField = try reader.optional("event_id_field")
        tls = try reader.optional("tls") ?? OutputTLSConfiguration()
    }
}
