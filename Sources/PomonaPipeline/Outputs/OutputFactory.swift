import Foundation
import Logging
import NIOCore
import NIOPosix

/// Builds the output a configuration describes, after checking everything that can be checked
/// before the first event: URLs, TLS files (read now), index patterns, writable directories.
/// Errors name the output and the key.
///
/// The caller owns the result and must call ``EventOutput/shutdown()`` once (HTTP outputs hold
/// an `HTTPClient`, syslog a connection, file outputs open files).
public func makeOutput(_ configuration: OutputConfiguration, logger: Logger = Logger(label: "pomona.output"),
                       eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton)
    throws(OutputConfigurationError) -> any EventOutput
{
    let name = configuration.name
    switch configuration {
    case .splunkHEC(let c):
        let url = try OutputURL(c.url, output: name)
        if c.token.trimmingCharacters(in: .whitespaces).isEmpty {
            throw OutputConfigurationError(output: name, key: "token", "must not be empty")
        }
        if let channel = c.channel, UUID(uuidString: channel) == nil {
            throw OutputConfigurationError(output: name, key: "channel", "must be a GUID (HEC refuses other channels, code 11)")
        }
        if let field = c.eventIDField, field.isEmpty {
            throw OutputConfigurationError(output: name, key: "event_id_field", "must not be empty")
        }
        let transport = try makeTransport(url, c.tls, c.common, name, eventLoopGroup)
        return SplunkHECOutput(c, url: url, transport: transport)
    case .elasticsearch(let c):
        let url = try OutputURL(c.url, output: name)
        if c.apiKey != nil, c.username != nil {
            throw OutputConfigurationError(output: name, key: "api_key", "cannot be combined with username/password")
        }
        if c.password != nil, c.username == nil {
            throw OutputConfigurationError(output: name, key: "username", "is required with password")
        }
        let defaultIndex: IndexNamePattern
        do { defaultIndex = try IndexNamePattern(c.index) } catch {
            throw OutputConfigurationError(output: name, key: "index", "\"\(c.index)\": \(error.message)")
        }
        var indexes: [String: IndexNamePattern] = [:]
        for (sourcetype, pattern) in c.indexes {
            do { indexes[sourcetype] = try IndexNamePattern(pattern) } catch {
                throw OutputConfigurationError(output: name, key: "indexes.\(sourcetype)", "\"\(pattern)\": \(error.message)")
            }
        }
        let transport = try makeTransport(url, c.tls, c.common, name, eventLoopGroup)
        return ElasticsearchBulkOutput(c, url: url, encoder: BulkRequestEncoder(defaultIndex: defaultIndex, indexes: indexes),
                                       transport: transport)
    case .http(let c):
        let url = try OutputURL(c.url, output: name)
        for key in c.headers.keys where key.isEmpty || key.contains(where: { $0.isWhitespace || $0 == ":" }) {
            throw OutputConfigurationError(output: name, key: "headers", "\"\(key)\" is not a valid header name")
        }
        let transport = try makeTransport(url, c.tls, c.common, name, eventLoopGroup)
        return HTTPNDJSONOutput(c, url: url, transport: transport)
    case .syslog(let c):
        if c.host.isEmpty { throw OutputConfigurationError(output: name, key: "host", "must not be empty") }
        let tls = c.transport == .tls ? try c.tls.makeClientConfiguration(output: name) : nil
        return try SyslogOutput(c, tls: tls, eventLoopGroup: eventLoopGroup, logger: logger)
    case .file(let c):
        try FilePathTemplate.checkWritable(c.path, output: name)
        return FileOutput(c, logger: logger)
    }
}

private func makeTransport(_ url: OutputURL, _ tls: OutputTLSConfiguration, _ common: OutputCommonSettings, _ name: String,
                           _ eventLoopGroup: any EventLoopGroup) throws(OutputConfigurationError) -> HTTPOutputTransport
{
    if !url.isHTTPS, tls != OutputTLSConfiguration() {
        throw OutputConfigurationError(output: name, key: "tls", "is set but url is http://; use https://")
    }
    if tls.serverName != nil {
        // AsyncHTTPClient verifies the URL's host; put the certificate's name in the URL instead.
        throw OutputConfigurationError(output: name, key: "tls.server_name", "is only used by syslog outputs; use that name in url")
    }
    return try HTTPOutputTransport(tls: url.isHTTPS ? tls : nil, timeoutSeconds: common.timeoutSeconds,
                                   connections: common.concurrency, output: name, eventLoopGroup: eventLoopGroup)
}
