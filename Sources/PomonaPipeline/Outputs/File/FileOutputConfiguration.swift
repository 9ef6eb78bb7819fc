/// `type: file`: rotating local NDJSON files, one per sourcetype.
public struct FileOutputConfiguration: Sendable, Equatable, Decodable {
    public var common: OutputCommonSettings
    /// Path template; `{sourcetype}` becomes the event's sourcetype with every character other than
    /// letters, digits, `.`, `-` and `_` replaced by `_` (`osquery:result` → `osquery_result`).
    public var path: String
    /// Rotate a file when it grows past this many MiB.
    public var maxFileMB: Int
    /// Rotated files kept per path (`.1` newest … `.N` oldest).
    public var keepFiles: Int
    /// fdatasync before a batch counts as delivered (`false`: the OS decides; an OS crash can then
    /// lose lines the spool already considers delivered).
    public var fsync: Bool

    public static let defaults = OutputCommonSettings(
        name: "", batch: OutputBatchConfiguration(maxEvents: 10_000, maxBytes: 8_000_000), concurrency: 1, timeoutSeconds: 30)

    public init(name: String, path: String, maxFileMB: Int = 512, keepFiles: Int = 10, fsync: Bool = true) {
        common = Self.defaults
        common.name = name
        self.path = path
        self.maxFileMB = maxFileMB
        self.keepFiles = keepFiles
        self.fsync = fsync
    }

    public init(from decoder: any Decoder) throws {
        let reader = try ConfigReader(decoder, allowed: OutputCommonSettings.keys.union(["path", "max_file_mb", "keep_files", "fsync"]))
        // Appends to one file are sequential by nature.
        common = try OutputCommonSettings(reader, defaults: Self.defaults, maxConcurrency: 1)
        path = try reader.required("path")
        if path.isEmpty { throw reader.error("path", "must not be empty") }
        maxFileMB = try reader.integer("max_file_mb", in: 1...1_000_000) ?? 512
        keepFiles = try reader.integer("keep_files", in: 0...1000) ?? 10
        fsync = try reader.optional("fsync") ?? true
    }
}
