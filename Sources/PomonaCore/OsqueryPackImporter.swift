import Foundation

/// Reads osquery pack files (`packs/*.conf`) into ``QueryPack`` values.
///
/// The parser accepts files exactly as osquery ships them and reads every field the way osquery's
/// own loader does (`osquery/config/packs.cpp`), so an imported pack schedules what osquery would
/// have scheduled from the same file:
///
/// * **Line continuations and comments.** Before parsing, osquery's `stripConfigComments`
///   (`osquery/config/config.cpp`) removes every backslash immediately followed by a newline —
///   anywhere in the text, so the next line's indentation stays inside the string — then trims
///   each line and drops lines starting with `#` or `//`. See ``stripConfigComments(_:)``.
/// * `interval`: a number or a numeric string; missing means 3600 (`--schedule_default_interval`).
///   It must be 1…604800; osquery silently skips anything else, Pomona reports it.
/// * `snapshot`, `removed`, `denylist`: a boolean, a string (`"true"` or `"t"`, any case, is true;
///   every other string is false, exactly as osquery reads it), or a number (non-zero is true).
/// * `platform`: a string. `version`: a string (a number is accepted and written out).
/// * `shard`: a number or numeric string, 1…100; 0 means no sharding.
/// * `description` and `value` (osquery's packs use `value` for *why* a query matters): both are
///   kept, joined by a blank line, in ``ScheduledQuery/description``.
///
/// Logging maps as Fleet does: `snapshot: true` → ``LoggingType/snapshot``; otherwise
/// `removed: false` → ``LoggingType/differentialIgnoreRemovals``; otherwise
/// ``LoggingType/differential``. Queries are sorted by name, the order osquery runs them in.
///
/// ## Strict parsing, lenient validation
/// A malformed *file* (bad JSON, an `interval` of `"abc"`) fails the whole import with an
/// ``OsqueryPackImportError`` naming the query and field: the file is wrong and should be fixed.
/// Whether the SQL runs on osquery is a different question, answered by ``importPack(data:packName:validator:)``:
/// it returns every query plus a list of validation problems, because admins expect osquery's own
/// packs to import even where a query names a table Pomona's table facts do not know. The caller
/// decides: the CLI prints the problems as warnings and stores ``OsqueryPackImport/validPack``.
public enum OsqueryPackImporter {
    /// osquery's `kMaxQueryInterval`: one week.
    public static let maximumInterval = 604_800
    /// osquery's `--schedule_default_interval`, used when a query has no `interval`.
    public static let defaultInterval = 3600

    /// Parses a pack file.
    ///
    /// ```swift
    /// let pack = try OsqueryPackImporter.parse(data: fileData, packName: "osx-attacks")
    /// ```
    /// - Parameters:
    ///   - data: The file's bytes (UTF-8).
    ///   - packName: The name to give the pack (osquery uses the config key or the file's stem).
    /// - Throws: ``OsqueryPackImportError`` for malformed JSON or a field osquery could not use.
    public static func parse(data: Data, packName: String) throws(OsqueryPackImportError) -> QueryPack {
        guard let text = String(data: data, encoding: .utf8) else {
            throw .pack(packName, "the file is not UTF-8 text")
        }
        let root: PackFileValue
        do {
            root = try JSONDecoder().decode(PackFileValue.self, from: Data(stripConfigComments(text).utf8))
        } catch {
            throw .pack(packName, "not valid JSON: \(describe(error))")
        }
        guard case .object(let fields) = root else { throw .pack(packName, "the file must hold a JSON object") }
        guard case .object(let queryObjects)? = fields["queries"] else {
            throw .pack(packName, field: "queries", "\"queries\" must be an object of named queries")
        }

        var queries: [ScheduledQuery] = []
        for name in queryObjects.keys.sorted() {
            guard case .object(let queryFields) = queryObjects[name]! else {
                throw .query(name, field: nil, "must be an object")
            }
            queries.append(try parseQuery(named: name, fields: queryFields))
        }

        return QueryPack(
            name: packName,
            description: try optionalString(fields["description"], field: "description", pack: packName) ?? "",
            platform: try optionalString(fields["platform"], field: "platform", pack: packName) ?? "",
            minOsqueryVersion: try version(fields["version"]) { .pack(packName, field: "version", $0) },
            shard: try shard(fields["shard"]) { .pack(packName, field: "shard", $0) },
            discovery: try discovery(fields["discovery"], pack: packName),
            queries: queries
        )
    }

    /// Parses a pack file and validates every query and discovery query.
    ///
    /// - Parameters:
    ///   - data: The file's bytes.
    ///   - packName: The pack's name.
    ///   - validator: Checks each query's SQL against its target platforms.
    /// - Returns: The whole pack and the problems found; see ``OsqueryPackImport``.
    /// - Throws: ``OsqueryPackImportError`` when the file itself is malformed.
    public static func importPack(
        data: Data, packName: String, validator: QueryValidator
    ) throws(OsqueryPackImportError) -> OsqueryPackImport {
        let pack = try parse(data: data, packName: packName)
        return OsqueryPackImport(
            pack: pack,
            problems: validator.problems(in: pack),
            discoveryProblems: validator.discoveryProblems(in: pack))
    }

    /// Applies osquery's `stripConfigComments` to config text.
    ///
    /// Exactly as osquery does: first every backslash-newline pair is removed (inside strings or
    /// not; a backslash before `\r\n` is left alone), then each line is trimmed of ASCII
    /// whitespace, lines starting with `#` or `//` are dropped, empty lines are dropped, and the
    /// rest are joined with newlines.
    public static func stripConfigComments(_ text: String) -> String {
        // Work on UTF-8 bytes like osquery does: Swift's `Character` would treat "\r\n" as one
        // character and hide the "\n" from a split.
        let backslash = UInt8(ascii: "\\"), newline = UInt8(ascii: "\n")
        // Remove backslash-newline pairs of the original text, left to right, without rescanning
        // what the removal joins (boost::replace_all semantics).
        let bytes = Array(text.utf8)
        var joined: [UInt8] = []
        joined.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == backslash, index + 1 < bytes.count, bytes[index + 1] == newline {
                index += 2
            } else {
                joined.append(bytes[index])
                index += 1
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(joined.count)
        // osquery's vsplit drops empty pieces; a whitespace-only line survives as an empty line.
        for line in joined.split(separator: newline, omittingEmptySubsequences: true) {
            let trimmed = line.drop(while: isCSpace).reversed().drop(while: isCSpace).reversed()
            if trimmed.starts(with: [UInt8(ascii: "#")]) || trimmed.starts(with: Array("//".utf8)) { continue }
            output.append(contentsOf: trimmed)
            output.append(newline)
        }
        return String(decoding: output, as: UTF8.self)
    }

    // MARK: - Queries

    private static func parseQuery(named name: String, fields: [String: PackFileValue]) throws(OsqueryPackImportError)
        -> ScheduledQuery
    {
        guard let sqlValue = fields["query"] else { throw .query(name, field: "query", "\"query\" is missing") }
        guard case .string(let sql) = sqlValue else {
            throw .query(name, field: "query", "\"query\" must be a string, not \(sqlValue.quoted)")
        }
        if sql.allSatisfy(\.isWhitespace) { throw .query(name, field: "query", "\"query\" is empty") }
        if let problem = reservedNameProblem(name) { throw .query(name, field: nil, problem) }

        let interval = try interval(fields["interval"], query: name)
        let snapshot = try bool(fields["snapshot"], default: false, field: "snapshot", query: name)
        let removed = try bool(fields["removed"], default: true, field: "removed", query: name)
        let denylist = try bool(fields["denylist"], default: true, field: "denylist", query: name)
        let logging: LoggingType = snapshot ? .snapshot : (removed ? .differential : .differentialIgnoreRemovals)

        let description = try optionalString(fields["description"], field: "description", query: name) ?? ""
        let value = try optionalString(fields["value"], field: "value", query: name) ?? ""
        let fullDescription = [description, value].filter { !$0.isEmpty }.joined(separator: "\n\n")

        return ScheduledQuery(
            name: name,
            sql: sql,
            description: fullDescription,
            interval: interval,
            platform: try optionalString(fields["platform"], field: "platform", query: name) ?? "",
            minOsqueryVersion: try version(fields["version"]) { .query(name, field: "version", $0) },
            shard: try shard(fields["shard"]) { .query(name, field: "shard", $0) },
            logging: logging,
            denylist: denylist
        )
    }

    /// osquery refuses query names that collide with its own database keys (`packs.cpp`).
    private static func reservedNameProblem(_ name: String) -> String? {
        for prefix in ["query.", "cache.", "config_views."] where name.hasPrefix(prefix) {
            return "the name starts with \"\(prefix)\", which osquery reserves; osquery would skip this query"
        }
        for suffix in ["epoch", "counter"] where name.hasSuffix(suffix) {
            return "the name ends with \"\(suffix)\", which osquery reserves; osquery would skip this query"
        }
        return nil
    }

    private static func interval(_ value: PackFileValue?, query: String) throws(OsqueryPackImportError) -> Int {
        guard let value else { return defaultInterval }
        let seconds: Int64
        switch value {
        case .integer(let number):
            seconds = number
        case .string(let text):
            guard let number = unsignedInteger(text) else {
                throw .query(query, field: "interval", "interval \(value.quoted) is not a number")
            }
            seconds = number
        default:
            throw .query(query, field: "interval", "interval \(value.quoted) is not a whole number of seconds")
        }
        guard (1...Int64(maximumInterval)).contains(seconds) else {
            throw .query(query, field: "interval", "interval \(seconds) is out of range (1…\(maximumInterval))")
        }
        return Int(seconds)
    }

    /// osquery's `JSON::valueToBool`: bool as is; string "true"/"t" (any case) → true, other
    /// strings → false; number → non-zero; null → false. Arrays and objects are refused here
    /// (osquery reads them as false, which is never what the author meant).
    private static func bool(
        _ value: PackFileValue?, default defaultValue: Bool, field: String, query: String
    ) throws(OsqueryPackImportError) -> Bool {
        switch value {
        case nil: return defaultValue
        case .null?: return false
        case .bool(let flag)?: return flag
        case .integer(let number)?: return number != 0
        case .number(let number)?: return number != 0
        case .string(let text)?: return ["true", "t"].contains(text.lowercased())
        case let other?:
            throw .query(query, field: field, "\(field) must be a boolean, not \(other.quoted)")
        }
    }

    // MARK: - Fields shared by packs and queries

    private static func optionalString(
        _ value: PackFileValue?, field: String, query: String? = nil, pack: String? = nil
    ) throws(OsqueryPackImportError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?:
            let problem = "\(field) must be a string, not \(other.quoted)"
            if let query { throw .query(query, field: field, problem) }
            throw .pack(pack ?? "", field: field, problem)
        }
    }

    /// A minimum osquery version: a string, or a number written out (`2.1` → "2.1").
    private static func version(
        _ value: PackFileValue?, error: (String) -> OsqueryPackImportError
    ) throws(OsqueryPackImportError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?:
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        case .integer(let number)?: return String(number)
        case .number(let number)?: return String(number)
        case let other?: throw error("version must be a string such as \"5.2.0\", not \(other.quoted)")
        }
    }

    /// A shard percentage: 1…100, or `nil` for 0/missing (osquery applies no sharding then).
    private static func shard(
        _ value: PackFileValue?, error: (String) -> OsqueryPackImportError
    ) throws(OsqueryPackImportError) -> Int? {
        let number: Int64
        switch value {
        case nil, .null?: return nil
        case .integer(let integer)?: number = integer
        case .string(let text)?:
            guard let parsed = unsignedInteger(text) else { throw error("shard \(value!.quoted) is not a number") }
            number = parsed
        case let other?: throw error("shard \(other.quoted) is not a whole number")
        }
        if number == 0 { return nil }
        guard (1...100).contains(number) else { throw error("shard \(number) is out of range (1…100)") }
        return Int(number)
    }

    private static func discovery(_ value: PackFileValue?, pack: String) throws(OsqueryPackImportError) -> [String] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?:
            var queries: [String] = []
            for item in items {
                guard case .string(let sql) = item else {
                    throw .pack(pack, field: "discovery", "discovery queries must be strings, not \(item.quoted)")
                }
                queries.append(sql)
            }
            return queries
        case let other?:
            throw .pack(pack, field: "discovery", "discovery must be an array of SQL strings, not \(other.quoted)")
        }
    }

    // MARK: - Helpers

    /// Decimal digits only, as osquery's `tryTo<uint64_t>` in base 10 (surrounding spaces allowed).
    private static func unsignedInteger(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        return Int64(trimmed)
    }

    /// The C locale's `isspace`, which osquery's `trim` uses: space, \t, \n, \v, \f, \r.
    private static func isCSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// A readable reason from a JSON decoding error.
    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}
