import Foundation
import Hummingbird
import Logging
import NIOCore
import PomonaCore
import PomonaStore

// Shared plumbing for every admin route file: JSON responses, bounded body decoding with errors that
// name the problem, Fleet's list conventions, running SQLite work off the cooperative pool, and the
// actor recorded in the audit log.

// MARK: - Responses

/// A JSON response from an ordered `JSONValue` (keys come out in the order written).
public func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.encoded())))
}

/// `{}` with 200: Fleet's answer to a delete/refetch/logout.
public func emptyObjectResponse() -> Response { jsonResponse(.object([])) }

/// JSON number helpers, so route files do not format numbers by hand.
extension JSONValue {
    public static func int(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(String(value)) : .null
    }
    public static func optionalString(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    /// RFC 3339 in UTC with seconds, Fleet's timestamp format (`2024-01-02T03:04:05Z`).
    public static func date(_ value: Date?) -> JSONValue {
        guard let value else { return .null }
        return .string(AdminTime.format(value))
    }
}

public enum AdminTime {
    public static func format(_ date: Date) -> String {
        // ISO8601DateFormatter is thread-safe for formatting; one shared instance keeps lists cheap.
        formatter.string(from: date)
    }
    /// Why `nonisolated(unsafe)`: ISO8601DateFormatter is documented thread-safe (Foundation's
    /// formatters are since macOS 10.9 / swift-corelibs), and this instance is never mutated after init.
    nonisolated(unsafe) static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()
}

// MARK: - Request bodies

/// Default cap for admin request bodies; routes taking spec documents may pass a larger one.
public let defaultAdminBodyLimit = 1 << 20

/// Collects the body up to `limit` bytes: 413 beyond it, 400 when it is empty.
public func readBody(_ request: Request, limit: Int = defaultAdminBodyLimit) async throws(FleetAPIError) -> [UInt8] {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: limit)
    } catch {
        throw FleetAPIError(
            status: .contentTooLarge, message: "Request body too large",
            errors: [.init(name: "base", reason: "request body exceeds \(limit) bytes")])
    }
    let bytes = Array(buffer.readableBytesView)
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
        throw FleetAPIError.badRequest("request body is empty; expected a JSON object")
    }
    return bytes
}

/// Parses the body as a `JSONValue` (order-keeping; for bodies forwarded as-is, like agent options).
/// Malformed JSON → 400 naming the byte offset and what was wrong.
public func parseJSONBody(_ request: Request, limit: Int = defaultAdminBodyLimit) async throws(FleetAPIError) -> JSONValue {
    let bytes = try await readBody(request, limit: limit)
    do {
        return try JSONValue.parse(bytes)
    } catch {
        throw FleetAPIError.badRequest("malformed JSON body: \(error.description)")
    }
}

/// Decodes the body with Foundation's `JSONDecoder`. Malformed JSON → 400 naming the problem;
/// a missing or mistyped field → 422 naming the field (`hosts[2]`, `spec.secrets`).
public func decodeBody<T: Decodable>(
    _ type: T.Type, from request: Request, limit: Int = defaultAdminBodyLimit
) async throws(FleetAPIError) -> T {
    let bytes = try await readBody(request, limit: limit)
    return try decodeJSON(type, from: bytes)
}

/// The decoding half of ``decodeBody(_:from:limit:)``, for tests and for bytes read elsewhere.
public func decodeJSON<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(FleetAPIError) -> T {
    // Syntax first with Pomona's scanner: its messages name the byte offset, Foundation's do not.
    do { _ = try JSONValue.parse(bytes) } catch { throw FleetAPIError.badRequest("malformed JSON body: \(error.description)") }
    do {
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch let error as DecodingError {
        throw fleetError(for: error)
    } catch {
        throw FleetAPIError.badRequest("cannot decode request body: \(error)")
    }
}

func fleetError(for error: DecodingError) -> FleetAPIError {
    func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
        var text = ""
        for key in codingPath + (last.map { [$0] } ?? []) {
            if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return text.isEmpty ? "base" : text
    }
    switch error {
    case .keyNotFound(let key, let context):
        return .invalid(path(context.codingPath, key), "is required")
    case .typeMismatch(let type, let context):
        return .invalid(path(context.codingPath), "must be \(describe(type))")
    case .valueNotFound(let type, let context):
        return .invalid(path(context.codingPath), "must be \(describe(type)), not null")
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty { return .badRequest("malformed JSON body: \(context.debugDescription)") }
        return .invalid(path(context.codingPath), context.debugDescription)
    @unknown default:
        return .badRequest("cannot decode request body")
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Int.Type, is Int64.Type, is UInt.Type: return "an integer"
    case is Double.Type: return "a number"
    case is Bool.Type: return "a boolean"
    default: return String(describing: type).hasPrefix("Array") ? "an array" : "an object"
    }
}

// MARK: - Path and query parameters

/// A positive integer path parameter (`{id}`); anything else is a 404 like an unknown id would be,
/// except text, which is a 400 naming the parameter.
public func pathID(_ context: AdminRequestContext, _ name: String = "id") throws(FleetAPIError) -> Int64 {
    guard let text = context.parameters.get(name) else { throw FleetAPIError.badRequest("missing path parameter \(name)") }
    guard let id = Int64(text), id > 0 else { throw FleetAPIError.invalid(name, "must be a positive integer, not \"\(text)\"") }
    return id
}

/// A host identifier from the path (`/hosts/identifier/{identifier}…`), percent-decoded (the router
/// leaves `%2F`, `%20` as sent), so the `GET` and `POST` forms name the same host.
public func hostIdentifierParameter(_ context: AdminRequestContext) throws(FleetAPIError) -> String {
    let raw = context.parameters.get("identifier") ?? ""
    guard let identifier = raw.removingPercentEncoding else {
        throw FleetAPIError.invalid("identifier", "is not valid percent-encoding: \"\(raw)\"")
    }
    guard !identifier.isEmpty, identifier.utf8.count <= 1024 else {
        throw FleetAPIError.invalid("identifier", "must be a uuid, osquery host id, serial, hostname or node key (1 to 1,024 bytes)")
    }
    return identifier
}

/// A query-string parameter, or `nil` when absent or empty.
public func queryParameter(_ request: Request, _ name: String) -> String? {
    guard let value = request.uri.queryParameters.get(name), !value.isEmpty else { return nil }
    return value
}

/// An optional integer query-string parameter within `range`.
public func intQueryParameter(_ request: Request, _ name: String, in range: ClosedRange<Int> = 0...Int.max) throws(FleetAPIError) -> Int? {
    guard let text = queryParameter(request, name) else { return nil }
    guard let value = Int(text), range.contains(value) else {
        throw FleetAPIError.invalid(name, "must be an integer in \(range.lowerBound)...\(range.upperBound), not \"\(text)\"")
    }
    return value
}

// MARK: - List conventions

/// Fleet's list parameters: `page` (0-based), `per_page` (capped), `order_key` (one of the list's
/// typed sort keys, defined next to the store, so no request text ever reaches a query),
/// `order_direction` and `query`.
public struct ListOptions<Key: ListSortKey>: Sendable, Equatable {
    public static var defaultPerPage: Int { ListPaging.defaultPerPage }
    public static var maxPerPage: Int { ListPaging.maxPerPage }

    public var page: Int
    public var perPage: Int
    /// The sort key (as the client sent it, or the default).
    public var sort: Key
    public var descending: Bool
    /// The free-text search, trimmed; `nil` when absent.
    public var query: String?

    public var offset: Int { page * perPage }

    /// The page to ask the store for: one row more than a page, to learn whether more exist.
    public var storePage: ListPage<Key> { ListPage(sort: sort, descending: descending, limit: perPage + 1, offset: offset) }

    /// Parses the list parameters of `request`.
    /// - Parameters:
    ///   - allowed: the keys this route accepts (default: all of `Key`).
    ///   - defaultSort: used when `order_key` is absent.
    public init(
        _ request: Request, allowed: [Key] = Array(Key.allCases), defaultSort: Key, defaultDescending: Bool = false,
        defaultPerPage: Int = ListPaging.defaultPerPage, maxPerPage: Int = ListPaging.maxPerPage
    ) throws(FleetAPIError) {
        try self.init(
            parameters: { queryParameter(request, $0) }, allowed: allowed, defaultSort: defaultSort,
            defaultDescending: defaultDescending, defaultPerPage: defaultPerPage, maxPerPage: maxPerPage)
    }

    /// The same from any parameter source (unit tests).
    public init(
        parameters: (String) -> String?, allowed: [Key] = Array(Key.allCases), defaultSort: Key, defaultDescending: Bool = false,
        defaultPerPage: Int = ListPaging.defaultPerPage, maxPerPage: Int = ListPaging.maxPerPage
    ) throws(FleetAPIError) {
        if let text = parameters("page") {
            guard let page = Int(text), page >= 0, page <= 10_000_000 else {
                throw FleetAPIError.invalid("page", "must be a non-negative integer, not \"\(text)\"")
            }
            self.page = page
        } else {
            page = 0
        }
        if let text = parameters("per_page") {
            guard let perPage = Int(text), perPage > 0 else {
                throw FleetAPIError.invalid("per_page", "must be a positive integer, not \"\(text)\"")
            }
            // Huge pages are capped rather than refused, as Fleet does: a script asking for "all" still works page by page.
            self.perPage = min(perPage, maxPerPage)
        } else {
            perPage = min(defaultPerPage, maxPerPage)
        }
        if let text = parameters("order_key") {
            guard let key = Key(rawValue: text), allowed.contains(key) else {
                throw FleetAPIError.invalid("order_key", "must be one of \(allowed.map(\.rawValue).sorted().joined(separator: ", "))")
            }
            sort = key
        } else {
            sort = defaultSort
        }
        switch parameters("order_direction")?.lowercased() {
        case nil: descending = defaultDescending
        case "asc": descending = false
        case "desc": descending = true
        case let other?: throw FleetAPIError.invalid("order_direction", "must be asc or desc, not \"\(other)\"")
        }
        let q = parameters("query")?.trimmingCharacters(in: .whitespacesAndNewlines)
        query = (q?.isEmpty ?? true) ? nil : q
    }

    /// Fleet's `meta` object for a page that fetched `perPage + 1` rows to learn whether more exist.
    public func meta(fetchedCount: Int) -> JSONValue {
        .object([("has_next_results", .bool(fetchedCount > perPage)), ("has_previous_results", .bool(page > 0))])
    }
}

/// Page sizes shared by every list.
public enum ListPaging {
    public static let defaultPerPage = 100
    public static let maxPerPage = 500
}

// MARK: - Audit log

/// Who did something, as the audit log records it.
public func actor(_ user: AdminUser) -> ActivityActor {
    ActivityActor(id: user.id, name: user.name, email: user.email)
}

extension AdminAPI {
    /// Records an audit-log entry for a change `user` made. A failure to
    /// record is logged, not returned: the change itself has already been committed.
    public func recordActivity(_ user: AdminUser, _ type: String, _ details: JSONValue = .object([])) async {
        let store = self.store
        do {
            try await store.recordActivity(actor: actor(user), type: type, details: details)
        } catch {
            logger.error("cannot record activity", metadata: ["type": "\(type)", "error": "\(error)"])
        }
    }
}
