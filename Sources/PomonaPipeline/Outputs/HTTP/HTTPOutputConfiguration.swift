/// `type: http`: a generic webhook receiving NDJSON.
public struct HTTPOutputConfiguration: Sendable, Equatable, Decodable {
    public var common: OutputCommonSettings
    public var url: String
    /// Extra request headers (e.g. `Authorization: Bearer …`); may override `Content-Type`.
    public var headers: [String: String]
    public var gzip: Bool
    public var tls: OutputTLSConfiguration

    public static let defaults = OutputCommonSettings(
        name: "", batch: OutputBatchConfiguration(maxEvents: 5000, maxBytes: 5_000_000), concurrency: 2, timeoutSeconds: 30)

    public init(name: String, url: String) {
        common = Self.defaults
        common.name = name
        self.url = url
        headers = [:]
        gzip = false
        tls = OutputTLSConfiguration()
    }

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: OutputCommonSettings.keys.union(["url", "headers", "gzip", "tls"]))
        common = try OutputCommonSettings(reader, defaults: Self.defaults)
        url = try reader.required("url")
        headers = try reader.optional("headers") ?? [:]
        gzip = try reader.optional("gzip") ?? false
        tls = try reader.optional("tls") ?? OutputTLSConfiguration()
    }
}
