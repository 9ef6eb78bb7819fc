import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

// Shared by the queries, packs, labels, policies and live-query routes: SQL validation with errors
// naming the field, store errors as Fleet errors, and the JSON shapes of saved queries.

enum FleetSQL {
    /// One checker for the process: it builds its schema databases once per platform.
    static let validator = QueryValidator(checker: OsquerySchemaChecker())

    /// Checks osquery SQL for the platforms a `platform` filter selects; errors name `field`.
    static func validate(_ sql: String, platform: String, field: String = "query", platformField: String = "platform") throws(FleetAPIError) {
        guard let platforms = OsqueryPlatform.parseFilter(platform) else {
            throw FleetAPIError.invalid(platformField, "\"\(platform)\" is not an osquery platform (use darwin, windows, linux, a distribution name, or a comma list)")
        }
        do throws(QueryValidationError) {
            try validator.validate(sql: sql, platforms: platforms)
        } catch {
            throw FleetAPIError.invalid(field, error.message)
        }
    }

    /// A name: non-empty after trimming, at most 255 characters.
    static func name(_ text: String?, field: String = "name") throws(FleetAPIError) -> String {
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { throw FleetAPIError.invalid(field, "must not be empty") }
        if trimmed.count > 255 { throw FleetAPIError.invalid(field, "must be at most 255 characters") }
        return trimmed
    }

    static func logging(_ text: String?) throws(FleetAPIError) -> LoggingType? {
        guard let text else { return nil }
        guard let value = LoggingType(rawValue: text) else {
            throw FleetAPIError.invalid("logging", "must be snapshot, differential or differential_ignore_removals, not \"\(text)\"")
        }
        return value
    }

    static func interval(_ value: Int?, field: String = "interval") throws(FleetAPIError) -> Int? {
        guard let value else { return nil }
        guard (0...604_800).contains(value) else { throw FleetAPIError.invalid(field, "must be between 0 and 604800 seconds") }
        return value
    }

    /// `5.2.0`-style versions (or empty for none).
    static func version(_ text: String?, field: String = "min_osquery_version") throws(FleetAPIError) -> String?? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return .some(nil) }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else {
            throw FleetAPIError.invalid(field, "must be a version like 5.2.0, not \"\(text)\"")
        }
        return .some(trimmed)
    }
}

extension FleetStoreError {
    /// The Fleet error for a refused store change.
    var apiError: FleetAPIError {
        switch self {
        case .duplicateName(let name):
            FleetAPIError(status: .conflict, message: "Resource Already Exists", errors: [.init(name: "name", reason: "\"\(name)\" already exists")])
        case .builtin(let name):
            FleetAPIError.invalid("base", "\"\(name)\" is built in and cannot be changed or deleted")
        case .notFound(let what):
            FleetAPIError.notFound(what)
        case .ambiguousHost(let identifier, let fields, let count):
            FleetAPIError.conflict(
                "host identifier \"\(identifier)\" names \(count) hosts (as \(fields.joined(separator: ", "))); name the host by its id")
        }
    }
}

extension AdminUser {
    var author: (id: Int64, name: String, email: String) { (id, name, email) }
}

extension SavedQuery {
    /// Fleet's query object.
    var json: JSONValue {
        .object([
            ("id", .int(id)), ("name", .string(name)), ("description", .string(description)), ("query", .string(query)),
            ("team_id", .null), ("interval", .int(interval)), ("platform", .string(platform)),
            ("min_osquery_version", .string(minOsqueryVersion ?? "")), ("automations_enabled", .bool(automationsEnabled)),
            ("logging", .string(logging.rawValue)), ("discard_data", .bool(discardData)), ("saved", .bool(true)),
            ("observer_can_run", .bool(observerCanRun)), ("author_id", authorID.map { .int($0) } ?? .null),
            ("author_name", .string(authorName)), ("author_email", .string(authorEmail)),
            ("created_at", .date(createdAt)), ("updated_at", .date(updatedAt)), ("packs", .array([])),
            ("labels_include_any", .array([])),
        ])
    }

    /// An entry of Fleet's global schedule (the query id doubles as the schedule id).
    var scheduleJSON: JSONValue {
        .object([
            ("id", .int(id)), ("name", .string(name)), ("query_id", .int(id)), ("query_name", .string(name)), ("query", .string(query)),
            ("description", .string(description)), ("interval", .int(interval)), ("snapshot", .bool(logging == .snapshot)),
            ("removed", .bool(logging == .differential)), ("platform", .string(platform)),
            ("version", .string(minOsqueryVersion ?? "")), ("shard", .null), ("denylist", .null),
            ("created_at", .date(createdAt)), ("updated_at", .date(updatedAt)),
        ])
    }
}

/// Fleet's `snapshot`/`removed` pair ↔ Pomona's logging type.
enum ScheduleLogging {
    static func from(snapshot: Bool?, removed: Bool?) -> LoggingType? {
        if snapshot == true { return .snapshot }
        if let removed { return removed ? .differential : .differentialIgnoreRemovals }
        if snapshot == false { return .differential }
        return nil
    }
}

/// Sorts and pages a small in-memory list by Fleet's list parameters. `matches` gets the lowercased
/// `query` (`nil`: the list has no search, and `query` is ignored).
func pagedInMemory<T, Key>(
    _ items: [T], _ options: ListOptions<Key>, matches: ((T, String) -> Bool)?, less: (T, T) -> Bool
) -> (items: [T], meta: JSONValue) {
    var list = items
    if let q = options.query?.lowercased(), let matches { list = list.filter { matches($0, q) } }
    list.sort { a, b in options.descending ? less(b, a) : less(a, b) }
    let start = min(options.offset, list.count)
    let end = min(start + options.perPage, list.count)
    return (Array(list[start..<end]), .object([("has_next_results", .bool(end < list.count)), ("has_previous_results", .bool(options.page > 0))]))
}
