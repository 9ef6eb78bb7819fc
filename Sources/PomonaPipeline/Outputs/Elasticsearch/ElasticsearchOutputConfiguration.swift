/// `type: elasticsearch` (or `opensearch`): the `_bulk` API with `create` and our stable `_id`.
public struct ElasticsearchOutputConfiguration: Sendable, Equatable, Decodable {
    public var common: OutputCommonSettings
    /// Base URL of the cluster (`https://es.example.com:9200`); `/_bulk` is appended.
    public var url: String
    public var username: String?
    public var password: String?
    /// Sent as `Authorization: ApiKey <api_key>` (the base64 form Elasticsearch hands out).
    public var apiKey: String?
    /// Index name pattern; `%Y %m %d %H` are the event's UTC date fields, `%%` a percent sign.
    public var index: String
    /// Index pattern per event sourcetype, overriding `index`.
    public var indexes: [String: String]
    public var gzip: Bool
    public var tls: OutputTLSConfiguration

    public static let defaults = OutputCommonSettings(
        name: "", batch: OutputBatchConfiguration(maxEvents: 5000, maxBytes: 5_000_000), concurrency: 2, timeoutSeconds: 60)

    public init(name: String, url: String, index: String = "osquery-%Y.%m.%d") {
        common = Self.defaults
        common.name = name
        self.url = url
        self.index = index
        indexes = [:]
        gzip = false
        tls = OutputTLSConfiguration()
    }

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: OutputCommonSettings.keys.union([
            "url", "username", "password", "api_key", "index", "indexes", "gzip", "tls",
        ]))
        common = try OutputCommonSettings(reader, defaults: Self.defaults)
        url = try reader.required("url")
        username = try reader.optional("username")
        password = try reader.optional("password")
        apiKey = try reader.optional("api_key")
        index = try reader.optional("index") ?? "osquery-%Y.%m.%d"
        indexes = try reader.optional("indexes") ?? [:]
        gzip = try reader.optional("gzip") ?? false
        tls = try reader.optional("tls") ?? OutputTLSConfiguration()
    }
}
