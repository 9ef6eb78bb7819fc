import Foundation
import Yams

/// The `pipeline:` section of the server's YAML configuration: spool, delivery, inputs, routes,
/// outputs. Every key is documented in README.md ("Pipeline configuration"); unknown keys are
/// errors that name the key path.
///
/// ```yaml
/// pipeline:
///   spool: { max_bytes: 4GiB, segment_bytes: 64MiB, fsync: always, when_full: block }
///   delivery: { retry_initial_backoff: 1s, retry_max_backoff: 60s, max_attempts: 0, drain_timeout: 10s }
///   osquery: { snapshot_mode: per_row }
///   collector:
///     sources:
///       - { name: edr, token_file: /etc/pomona/edr.token, sourcetype: "edr:alert" }
///   routes: [...]     # RouteConfiguration
///   outputs: [...]    # OutputConfiguration
/// ```
public struct PipelineConfiguration: Sendable {
    public struct SpoolSettings: Sendable, Equatable {
        public var maxBytes: Int64 = 4 << 30
        public var segmentBytes: Int = 64 << 20
        public var fsync: SpoolFsyncPolicy = .always
        public var fsyncInterval: Double = 0.5
        public var commitDelay: Double = 0.004
        public var whenFull: SpoolFullPolicy = .block
        public init() {}
    }

    public struct DeliverySettings: Sendable, Equatable {
        public var retry = RetryPolicy()
        /// On shutdown, how long outputs may keep delivering what is spooled before Pomona stops
        /// (whatever is left is delivered after the next start).
        public var drainTimeout: Double = 10
        public var deadLetterMaxBytes: Int64 = 1 << 30
        public init() {}
    }

    public struct CollectorSource: Sendable, Equatable {
        public var name: String
        /// The token itself; prefer `tokenFile` so secrets stay out of the config file.
        public var token: String
        public var sourcetype: String
        public init(name: String, token: String, sourcetype: String? = nil) {
            self.name = name
            self.token = token
            self.sourcetype = sourcetype ?? "collector:\(name)"
        }
    }

    public struct CollectorSettings: Sendable, Equatable {
        public var sources: [CollectorSource] = []
        /// Largest request body as sent (compressed or not).
        public var maxBodyBytes = 16 << 20
        /// Largest body after gzip inflation.
        public var maxInflatedBytes = 64 << 20
        /// Largest single event.
        public var maxEventBytes = 1 << 20
        /// `Retry-After` seconds sent with a 503 when the spool is full.
        public var retryAfterSeconds = 5
        public init() {}
    }

    public var spool = SpoolSettings()
    public var delivery = DeliverySettings()
    public var snapshotMode: OsqueryLogSplitter.SnapshotMode = .perRow
    public var collector = CollectorSettings()
    public var routes: [RouteConfiguration] = []
    public var outputs: [OutputConfiguration] = []

    public init() {}

    public func spoolOptions(dataDirectory: URL) -> SpoolOptions {
        var options = SpoolOptions(directory: dataDirectory.appendingPathComponent("spool"))
        options.maxBytes = spool.maxBytes
        options.segmentBytes = spool.segmentBytes
        options.fsync = spool.fsync
        options.fsyncInterval = .milliseconds(Int64(spool.fsyncInterval * 1000))
        options.commitDelay = .microseconds(Int64((spool.commitDelay * 1_000_000).rounded()))
        options.whenFull = spool.whenFull
        return options
    }

    /// Checks what only makes sense together; messages name the key.
    public func validate() throws(PipelineConfigurationError) {
        if Int64(spool.segmentBytes) * 2 > spool.maxBytes {
            throw .init("pipeline.spool.segment_bytes must be at most half of pipeline.spool.max_bytes (the spool drops or frees whole segments)")
        }
        if delivery.retry.initialBackoff > delivery.retry.maxBackoff {
            throw .init("pipeline.delivery.retry_initial_backoff must not exceed pipeline.delivery.retry_max_backoff")
        }
        var names = Set<String>()
        for (i, source) in collector.sources.enumerated() {
            guard names.insert(source.name).inserted else { throw .init("pipeline.collector.sources[\(i)].name: \"\(source.name)\" is used twice") }
        }
        var tokens = Set<String>()
        for (i, source) in collector.sources.enumerated() where !tokens.insert(source.token).inserted {
            throw .init("pipeline.collector.sources[\(i)]: the same token is configured for two sources (a token must say which source sent)")
        }
        var outputNames = Set<String>()
        for (i, output) in outputs.enumerated() {
            guard outputNames.insert(output.name).inserted else { throw .init("pipeline.outputs[\(i)].name: \"\(output.name)\" is used twice") }
        }
        do { try RouteConfiguration.validate(routes, outputNames: outputNames) } catch { throw .init(error.description) }
    }

    /// Reads the `pipeline:` mapping from a YAML document (the whole server config file); absent
    /// means all defaults. `source` names the file in errors.
    public static func load(yaml text: String, source: String) throws(PipelineConfigurationError) -> PipelineConfiguration {
        struct Document: Decodable {
            var pipeline: PipelineConfiguration?
            enum CodingKeys: String, CodingKey { case pipeline }
        }
        do {
            // Bounds first (an alias bomb explodes inside the decoder otherwise; see BoundedYAML).
            _ = try BoundedYAML.compose(text, maxBytes: BoundedYAML.maxConfigBytes)
            return try YAMLDecoder().decode(Document.self, from: text).pipeline ?? PipelineConfiguration()
        } catch let error as BoundedYAMLError {
            throw .init("\(source): \(error.message)")
        } catch let error as PipelineConfigurationError {
            throw .init("\(source): \(error.message)")
        } catch {
            throw .init("\(source): \(describeConfigurationError(error))")
        }
    }
}

public struct PipelineConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension PipelineConfiguration: Decodable {
    enum Keys: String, CodingKey { case spool, delivery, osquery, collector, routes, outputs }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["spool", "delivery", "osquery", "collector", "routes", "outputs"])
        let c = try decoder.container(keyedBy: Keys.self)
        self.init()
        if c.contains(.spool) { spool = try c.decode(SpoolSettings.self, forKey: .spool) }
        if c.contains(.delivery) { delivery = try c.decode(DeliverySettings.self, forKey: .delivery) }
        if c.contains(.osquery) {
            let o = try c.nestedContainer(keyedBy: AnyConfigKey.self, forKey: .osquery)
            try c.superDecoder(forKey: .osquery).rejectUnknownKeys(["snapshot_mode"])
            if let mode = try o.decodeIfPresent(String.self, forKey: AnyConfigKey("snapshot_mode")) {
                guard let parsed = OsqueryLogSplitter.SnapshotMode(rawValue: mode) else {
                    throw o.configError(AnyConfigKey("snapshot_mode"), "must be per_row or per_snapshot, not \"\(mode)\"")
                }
                snapshotMode = parsed
            }
        }
        if c.contains(.collector) { collector = try c.decode(CollectorSettings.self, forKey: .collector) }
        routes = try c.decodeIfPresent([RouteConfiguration].self, forKey: .routes) ?? []
        outputs = try c.decodeIfPresent([OutputConfiguration].self, forKey: .outputs) ?? []
    }
}

extension KeyedDecodingContainer where Key == AnyConfigKey {
    /// A byte size: a number, or a string with a unit (`512KiB`, `64MiB`, `4GiB`, `1GB`, `100MB`).
    func decodeByteSize(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
        let key = AnyConfigKey(name)
        guard contains(key) else { return nil }
        let value: Int64
        if let n = try? decode(Int64.self, forKey: key) {
            value = n
        } else {
            let text = try decode(String.self, forKey: key)
            guard let parsed = parseByteSize(text) else {
                throw configError(key, "\"\(text)\" is not a size (write e.g. 512MiB, 4GiB or a number of bytes)")
            }
            value = parsed
        }
        guard range.contains(value) else { throw configError(key, "must be between \(range.lowerBound) and \(range.upperBound) bytes") }
        return value
    }

    func decodeSeconds(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        let key = AnyConfigKey(name)
        guard contains(key) else { return nil }
        let seconds: Double
        if let n = try? decode(Double.self, forKey: key) {
            seconds = n
        } else {
            let text = try decode(String.self, forKey: key)
            guard let parsed = parseDuration(text) else {
                throw configError(key, "\"\(text)\" is not a duration (write e.g. 500ms, 30s, 1m)")
            }
            seconds = parsed
        }
        guard range.contains(seconds) else { throw configError(key, "must be between \(range.lowerBound) and \(range.upperBound) seconds") }
        return seconds
    }

    func decodeChoice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T? where T.RawValue == String {
        let key = AnyConfigKey(name)
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw configError(key, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text)\"")
        }
        return value
    }
}

/// Bytes in `4096`, `512KiB`, `64MiB`, `4GiB`, `1TiB`, or decimal `KB`/`MB`/`GB`/`TB`; nil otherwise.
func parseByteSize(_ text: String) -> Int64? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]
    for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
        guard let number = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0 else {
            return nil
        }
        return Int64(number * factor)
    }
    return Int64(trimmed)
}

extension PipelineConfiguration.SpoolSettings: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["max_bytes", "segment_bytes", "fsync", "fsync_interval", "commit_delay", "when_full"])
        let c = try decoder.container(keyedBy: AnyConfigKey.self)
        self.init()
        if let v = try c.decodeByteSize("max_bytes", in: (16 << 20)...(1 << 50)) { maxBytes = v }
        if let v = try c.decodeByteSize("segment_bytes", in: (1 << 20)...(1 << 30)) { segmentBytes = Int(v) }
        if let v = try c.decodeChoice("fsync", SpoolFsyncPolicy.self) { fsync = v }
        if let v = try c.decodeSeconds("fsync_interval", in: 0.001...60) { fsyncInterval = v }
        if let v = try c.decodeSeconds("commit_delay", in: 0...0.1) { commitDelay = v }
        if let v = try c.decodeChoice("when_full", SpoolFullPolicy.self) { whenFull = v }
    }
}

extension PipelineConfiguration.DeliverySettings: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["retry_initial_backoff", "retry_max_backoff", "max_attempts", "drain_timeout", "dead_letter_max_bytes"])
        let c = try decoder.container(keyedBy: AnyConfigKey.self)
        self.init()
        if let v = try c.decodeSeconds("retry_initial_backoff", in: 0.001...3600) { retry.initialBackoff = v }
        if let v = try c.decodeSeconds("retry_max_backoff", in: 0.001...86400) { retry.maxBackoff = v }
        if let v = try c.decodeIfPresent(Int.self, forKey: AnyConfigKey("max_attempts")) {
            guard v >= 0 else { throw c.configError(AnyConfigKey("max_attempts"), "must be 0 (retry forever) or more") }
            retry.maxAttempts = v
        }
        if let v = try c.decodeSeconds("drain_timeout", in: 0...3600) { drainTimeout = v }
        if let v = try c.decodeByteSize("dead_letter_max_bytes", in: (1 << 20)...(1 << 50)) { deadLetterMaxBytes = v }
    }
}

extension PipelineConfiguration.CollectorSettings: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["sources", "max_body_bytes", "max_inflated_bytes", "max_event_bytes", "retry_after_seconds"])
        let c = try decoder.container(keyedBy: AnyConfigKey.self)
        self.init()
        sources = try c.decodeIfPresent([PipelineConfiguration.CollectorSource].self, forKey: AnyConfigKey("sources")) ?? []
        if let v = try c.decodeByteSize("max_body_bytes", in: 1024...(1 << 30)) { maxBodyBytes = Int(v) }
        if let v = try c.decodeByteSize("max_inflated_bytes", in: 1024...(4 << 30)) { maxInflatedBytes = Int(v) }
        if let v = try c.decodeByteSize("max_event_bytes", in: 64...(64 << 20)) { maxEventBytes = Int(v) }
        if let v = try c.decodeIfPresent(Int.self, forKey: AnyConfigKey("retry_after_seconds")) {
            guard (1...3600).contains(v) else { throw c.configError(AnyConfigKey("retry_after_seconds"), "must be between 1 and 3600") }
            retryAfterSeconds = v
        }
        if maxInflatedBytes < maxBodyBytes { maxInflatedBytes = maxBodyBytes }
    }
}

extension PipelineConfiguration.CollectorSource: Decodable {
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["name", "token", "token_file", "sourcetype"])
        let c = try decoder.container(keyedBy: AnyConfigKey.self)
        guard let name = try c.decodeIfPresent(String.self, forKey: AnyConfigKey("name")) else {
            throw decoder.configError("a collector source needs \"name\"")
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), name != "osquery", name != "live" else {
            throw c.configError(AnyConfigKey("name"), "must be letters, digits, '-', '_' or '.', and not \"osquery\" or \"live\" (those inputs are built in)")
        }
        let inline = try c.decodeIfPresent(String.self, forKey: AnyConfigKey("token"))
        let file = try c.decodeIfPresent(String.self, forKey: AnyConfigKey("token_file"))
        let token: String
        switch (inline, file) {
        case (let t?, nil): token = t
        case (nil, let path?):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw c.configError(AnyConfigKey("token_file"), "cannot read \(path)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        case (nil, nil): throw decoder.configError("collector source \"\(name)\" needs token or token_file")
        case (_?, _?): throw c.configError(AnyConfigKey("token_file"), "give token or token_file, not both")
        }
        guard token.utf8.count >= 16 else {
            throw c.configError(AnyConfigKey(inline != nil ? "token" : "token_file"), "the token must be at least 16 characters")
        }
        let sourcetype = try c.decodeIfPresent(String.self, forKey: AnyConfigKey("sourcetype"))
        if let sourcetype, sourcetype.isEmpty { throw c.configError(AnyConfigKey("sourcetype"), "must not be empty") }
        self.init(name: name, token: token, sourcetype: sourcetype)
    }
}
