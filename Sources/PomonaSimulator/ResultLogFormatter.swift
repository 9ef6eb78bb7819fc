/// Builds result and status log lines exactly as osqueryd buffers them (spec §4.2–§4.4).
///
/// Lines are ``JSONValue`` objects with osqueryd's member order; ``OsqueryAgent/sendLogs(type:lines:gzip:)``
/// embeds them in the `data` array. Column maps are `[String: String]` because, without
/// `logger_numerics`, every value is a string; osqueryd's rows are `std::map`s, so keys are written
/// alphabetically.
///
/// ```swift
/// let formatter = ResultLogFormatter(hostIdentifier: "web-01", osqueryVersion: "5.23.1")
/// let lines = formatter.eventLines(name: "pack_x_users", added: [["uid": "0"]], removed: [], unixTime: 1785844801, counter: 3)
/// ```
public struct ResultLogFormatter: Sendable, Equatable {
    /// `hostIdentifier` of every line.
    public var hostIdentifier: String
    /// osquery version written into status lines.
    public var osqueryVersion: String
    /// Decorations; omitted when empty, like osqueryd.
    public var decorations: [String: String]
    /// `--decorations_top_level`: merge decorations into the line (they may overwrite standard fields).
    public var decorationsTopLevel: Bool
    /// `--logger_numerics`: sets `"numerics":true` and writes integer-looking values as JSON integers.
    public var numerics: Bool
    /// Escaping of differential (event and batch) column values; ``ResultEscaping/legacy`` before 5.22.
    public var escaping: ResultEscaping
    /// Pre-5.10 status lines: `unixTime`, `severity` and `line` as strings, decorations always nested.
    public var stringTypedStatus: Bool

    /// Creates a formatter with osqueryd 5.23 defaults.
    public init(
        hostIdentifier: String,
        osqueryVersion: String,
        decorations: [String: String] = [:],
        decorationsTopLevel: Bool = false,
        numerics: Bool = false,
        escaping: ResultEscaping = .utf8Aware,
        stringTypedStatus: Bool = false
    ) {
        self.hostIdentifier = hostIdentifier
        self.osqueryVersion = osqueryVersion
        self.decorations = decorations
        self.decorationsTopLevel = decorationsTopLevel
        self.numerics = numerics
        self.escaping = escaping
        self.stringTypedStatus = stringTypedStatus
    }

    // MARK: - Result lines

    /// Event-format lines (the default `logger_event_type=true`): every `removed` row first, then
    /// every `added` row, all sharing `unixTime`, `calendarTime` and `counter`. No changes, no lines.
    public func eventLines(
        name: String,
        added: [[String: String]],
        removed: [[String: String]],
        unixTime: Int64,
        epoch: Int64 = 0,
        counter: Int64
    ) -> [JSONValue] {
        let tagged = removed.map { ($0, "removed") } + added.map { ($0, "added") }
        return tagged.map { row, action in
            var line = commonFields(name: name, unixTime: unixTime, epoch: epoch, counter: counter)
            line["columns"] = .object(columns(row, escaped: true))
            line["action"] = .string(action)
            return .object(line)
        }
    }

    /// A batch-format line (`logger_event_type=false`): `diffResults` first, no `action`.
    public func batchLine(
        name: String,
        added: [[String: String]],
        removed: [[String: String]],
        unixTime: Int64,
        epoch: Int64 = 0,
        counter: Int64
    ) -> JSONValue {
        var line: JSONObject = [
            "diffResults": [
                "removed": .array(removed.map { .object(columns($0, escaped: true)) }),
                "added": .array(added.map { .object(columns($0, escaped: true)) }),
            ]
        ]
        for member in commonFields(name: name, unixTime: unixTime, epoch: epoch, counter: counter) {
            line[member.key] = member.value
        }
        return .object(line)
    }

    /// A snapshot line: `snapshot` and `action` first, counter always 0, logged even with no rows.
    /// Snapshot values are never `\x`-escaped.
    public func snapshotLine(name: String, rows: [[String: String]], unixTime: Int64, epoch: Int64 = 0) -> JSONValue {
        var line: JSONObject = [
            "snapshot": .array(rows.map { .object(columns($0, escaped: false)) }),
            "action": "snapshot",
        ]
        for member in commonFields(name: name, unixTime: unixTime, epoch: epoch, counter: 0) {
            line[member.key] = member.value
        }
        return .object(line)
    }

    // MARK: - Status lines

    /// glog severities as osqueryd numbers them.
    public enum Severity: Int64, Sendable { case info = 0, warning = 1, error = 2, fatal = 3 }

    /// A status line (spec §4.4); string-typed numbers when ``stringTypedStatus`` is set.
    public func statusLine(
        severity: Severity,
        filename: String,
        line lineNumber: Int64,
        message: String,
        unixTime: Int64
    ) -> JSONValue {
        func number(_ value: Int64) -> JSONValue { stringTypedStatus ? .string(String(value)) : .integer(value) }
        var line: JSONObject = [
            "hostIdentifier": .string(hostIdentifier),
            "calendarTime": .string(CalendarTime.format(unixTime: unixTime)),
            "unixTime": number(unixTime),
            "severity": number(severity.rawValue),
            "filename": .string(filename),
            "line": number(lineNumber),
            "message": .string(message),
            "version": .string(osqueryVersion),
        ]
        if !decorations.isEmpty {
            // Status lines only learned decorations_top_level in 5.10.0.
            if decorationsTopLevel && !stringTypedStatus {
                for (key, value) in decorations.sorted(by: { $0.key < $1.key }) { line[key] = .string(value) }
            } else {
                line["decorations"] = .object(stringMap(decorations))
            }
        }
        return .object(line)
    }

    // MARK: - Helpers

    private func commonFields(name: String, unixTime: Int64, epoch: Int64, counter: Int64) -> JSONObject {
        var line: JSONObject = [
            "name": .string(name),
            "hostIdentifier": .string(hostIdentifier),
            "calendarTime": .string(CalendarTime.format(unixTime: unixTime)),
            "unixTime": .integer(unixTime),
            "epoch": .integer(epoch),
            "counter": .integer(counter),
            "numerics": .bool(numerics),
        ]
        // Decorations come right after the legacy fields (`addLegacyFieldsAndDecorations`); merged
        // top-level keys may overwrite them.
        if !decorations.isEmpty {
            if decorationsTopLevel {
                for (key, value) in decorations.sorted(by: { $0.key < $1.key }) { line[key] = .string(value) }
            } else {
                line["decorations"] = .object(stringMap(decorations))
            }
        }
        return line
    }

    private func columns(_ row: [String: String], escaped: Bool) -> JSONObject {
        JSONObject(
            row.sorted(by: { $0.key < $1.key }).map { key, value in
                let text = escaped ? escaping.escape(value) : value
                if numerics, let integer = Int64(text) { return (key, .integer(integer)) }
                return (key, .string(text))
            })
    }

    private func stringMap(_ map: [String: String]) -> JSONObject {
        JSONObject(map.sorted(by: { $0.key < $1.key }).map { ($0.key, .string($0.value)) })
    }
}
