import Foundation
import Hummingbird
import NIOCore
import PomonaCore

/// Fleet's error envelope: `{"message": "...", "errors": [{"name": "field", "reason": "..."}]}`.
public struct FleetAPIError: Error, HTTPResponseError, Sendable {
    public struct FieldError: Sendable, Equatable {
        public var name: String
        public var reason: String
        public init(name: String, reason: String) {
            self.name = name
            self.reason = reason
        }
    }

    public var status: HTTPResponse.Status
    public var message: String
    public var errors: [FieldError]
    /// Seconds for a `Retry-After` header (429).
    public var retryAfter: Int?

    public init(status: HTTPResponse.Status, message: String, errors: [FieldError] = []) {
        self.status = status
        self.message = message
        self.errors = errors
    }

    public static let unauthenticated = FleetAPIError(
        status: .unauthorized, message: "Authentication required",
        errors: [.init(name: "base", reason: "Authentication required")])
    public static let forbidden = FleetAPIError(
        status: .forbidden, message: "Permission Denied",
        errors: [.init(name: "base", reason: "forbidden")])

    /// 422 naming the offending field, Fleet's answer to invalid input.
    public static func invalid(_ field: String, _ reason: String) -> FleetAPIError {
        FleetAPIError(status: .unprocessableContent, message: "Validation Failed", errors: [.init(name: field, reason: reason)])
    }

    public static func notFound(_ what: String) -> FleetAPIError {
        FleetAPIError(status: .notFound, message: "Resource Not Found", errors: [.init(name: "base", reason: "\(what) was not found in the datastore")])
    }

    public static func badRequest(_ reason: String) -> FleetAPIError {
        FleetAPIError(status: .badRequest, message: "Bad request", errors: [.init(name: "base", reason: reason)])
    }

    public var body: JSONValue {
        .object([
            ("message", .string(message)),
            ("errors", .array(errors.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })),
        ])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.encoded())))
    }
}

extension FleetAPIError {
    /// 401 with a reason (an expired session, an unknown token) so clients can say what to do.
    public static func unauthenticated(reason: String) -> FleetAPIError {
        FleetAPIError(status: .unauthorized, message: "Authentication required", errors: [.init(name: "base", reason: reason)])
    }

    public static let internalError = FleetAPIError(
        status: .internalServerError, message: "Internal server error",
        errors: [.init(name: "base", reason: "internal error; see the server log")])

    /// 409: the request conflicts with what exists (a taken email, setup already done).
    public static func conflict(_ reason: String) -> FleetAPIError {
        FleetAPIError(status: .conflict, message: "Conflict", errors: [.init(name: "base", reason: reason)])
    }

    /// 429 with `Retry-After` (the reason defaults to the login limit's).
    public static func tooManyRequests(retryAfter seconds: Int, reason: String? = nil) -> FleetAPIError {
        var error = FleetAPIError(
            status: .tooManyRequests, message: "Too many requests",
            errors: [.init(name: "base", reason: reason ?? "too many login attempts; retry in \(seconds) s")])
        error.retryAfter = seconds
        return error
    }
}
