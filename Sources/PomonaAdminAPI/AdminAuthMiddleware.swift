import Foundation
import Hummingbird
import Logging
import PomonaStore

/// Authenticates every request of the admin listener and turns every error into Fleet's envelope.
///
/// - A bearer token (session or API-only token) is looked up by its SHA-256; a valid one fills
///   `context.user`. Without one, a browser's session cookie is used the same way, after the
///   checks of ``BrowserSession`` (fetch metadata, and the CSRF token on state-changing methods). Sessions slide: each use pushes the expiry `sessionLifetime` ahead (persisted
///   at most once a minute, so reads do not turn into writes).
/// - Every path under `/api/` except setup and login needs a valid token (401 otherwise), as a
///   backstop to the `requireRole` each handler calls first; paths outside `/api/` (`/healthz`,
///   `/metrics`) are left to their handlers.
/// - Errors that are not already HTTP errors become a logged 500 with the Fleet envelope, never a
///   stack trace or SQL text.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let api: AdminAPI

    static let publicPaths = Set(["/api/v1/setup", "/api/latest/setup"] + AdminAPI.prefixes.map { $0 + "/login" })

    /// Judged on the path as the router sees it: the router skips empty segments, so `//api/…`
    /// reached `/api/…` handlers while this check, reading the raw text, skipped it.
    static func requiresAuthentication(_ path: String) -> Bool {
        let path = "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        return path.hasPrefix("/api/") && !publicPaths.contains(path)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        // Set when a session cookie turned out expired or unknown: the answer also clears it.
        var clearCookies = false
        do {
            let needsUser = Self.requiresAuthentication(request.uri.path)
            if let token = Self.bearerToken(request) {
                switch try await api.authenticate(token: token) {
                case .valid(let user, let digest):
                    context.user = user
                    context.sessionDigest = digest
                case .expired where needsUser:
                    throw FleetAPIError.unauthenticated(reason: "session expired: log in again")
                case .unknown where needsUser:
                    throw FleetAPIError.unauthenticated(reason: "invalid token")
                case .expired, .unknown:
                    break
                }
            } else if needsUser, let token = BrowserSession.sessionToken(request.headers) {
                // A browser session (see BrowserSession): fetch metadata and CSRF before the lookup.
                if let reason = BrowserSession.refusal(method: request.method, headers: request.headers, sessionToken: token) {
                    throw FleetAPIError(status: .forbidden, message: "Permission Denied", errors: [.init(name: "base", reason: reason)])
                }
                switch try await api.authenticate(token: token) {
                case .valid(let user, let digest):
                    context.user = user
                    context.sessionDigest = digest
                case .expired:
                    clearCookies = true
                    throw FleetAPIError.unauthenticated(reason: "session expired: log in again")
                case .unknown:
                    clearCookies = true
                    throw FleetAPIError.unauthenticated(reason: "invalid session")
                }
            }
            if needsUser && context.user == nil { throw FleetAPIError.unauthenticated }
            return try await next(request, context)
        } catch let error as FleetAPIError {
            var response = try error.response(from: request, context: context)
            if clearCookies { BrowserSession.append(BrowserSession.clearCookies, to: &response.headers) }
            return response
        } catch let error as any HTTPResponseError {
            // Hummingbird's own (404 for unknown routes, 413 from body limits): in Fleet's envelope too.
            let fleet = FleetAPIError(
                status: error.status, message: error.status.reasonPhrase,
                errors: [.init(name: "base", reason: error.status.reasonPhrase)])
            return try fleet.response(from: request, context: context)
        } catch {
            api.logger.error("admin request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try FleetAPIError.internalError.response(from: request, context: context)
        }
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty || token.count > 512 ? nil : token
    }
}

/// What a bearer token turned out to be.
enum TokenCheck: Sendable {
    case valid(AdminUser, digest: String)
    case expired
    case unknown
}

extension AdminAPI {
    /// Looks a bearer token up and slides a session's expiry.
    func authenticate(token: String) async throws -> TokenCheck {
        let digest = BearerToken.digest(token)
        let now = clock()
        let store = self.store
        let settings = self.settings
        guard let (session, record) = try await store.session(tokenDigest: digest) else { return .unknown }
        if let expiresAt = session.expiresAt, expiresAt <= now {
            try await store.deleteSession(tokenDigest: digest)
            return .expired
        }
        guard let role = Role(rawValue: record.globalRole) else { return .unknown }
        if session.kind == .session && now.timeIntervalSince(session.lastUsedAt) >= 60 {
            try await store.touchSession(tokenDigest: digest, now: now, expiresAt: now.addingTimeInterval(settings.sessionLifetime))
        }
        let user = AdminUser(id: record.id, name: record.name, email: record.email, role: role, apiOnly: record.apiOnly)
        return .valid(user, digest: digest)
    }

    /// Creates a session (or an API-only token) for a user and returns the bearer token, once.
    public func issueToken(userID: Int64, kind: SessionRecord.Kind, replacingExisting: Bool = false) async throws -> String {
        let token = BearerToken.make()
        let now = clock()
        let expiresAt: Date? =
            switch kind {
            case .session: now.addingTimeInterval(settings.sessionLifetime)
            case .api: settings.apiTokenLifetime.map { now.addingTimeInterval($0) }
            }
        let store = self.store
        try await store.createSession(
                tokenDigest: BearerToken.digest(token), userID: userID, kind: kind, expiresAt: expiresAt,
                replacingTokensOfKind: replacingExisting, now: now)
        return token
    }
}
