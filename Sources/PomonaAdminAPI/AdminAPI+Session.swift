import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Setup, login, logout, me, change_password, version.
extension AdminAPI {
    struct SetupBody: Decodable {
        var admin: NewUserBody?
        var name: String?
        var email: String?
        var password: String?
    }

    struct LoginBody: Decodable {
        var email: String
        var password: String
    }

    struct ChangePasswordBody: Decodable {
        var old_password: String
        var new_password: String
    }

    func registerSession(on router: Router<AdminRequestContext>) {
        for path in ["/api/v1/setup", "/api/latest/setup"] {
            router.post(RouterPath(path)) { request, _ in try await self.setup(request) }
            // Public, as in Fleet: the web page asks it to offer setup or login.
            router.get(RouterPath(path)) { _, _ in
                let users = try await store.userCount()
                return jsonResponse(.object([("require_setup", .bool(users == 0))]))
            }
        }
        route(router, .post, "/login") { request, context in try await self.login(request, context) }
        route(router, .post, "/logout") { _, context in
            _ = try context.requireRole(.observer)
            if let digest = context.sessionDigest {
                let store = self.store
                _ = try await store.deleteSession(tokenDigest: digest)
            }
            var response = emptyObjectResponse()
            BrowserSession.append(BrowserSession.clearCookies, to: &response.headers)
            return response
        }
        route(router, .get, "/me") { _, context in
            let user = try context.requireRole(.observer)
            guard let record = try await store.user(id: user.id) else { throw FleetAPIError.unauthenticated }
            return jsonResponse(.object([("user", userJSON(record)), ("available_teams", .array([]))]))
        }
        // Checks the old password, so it is rate-limited like a login (else a stolen session is an
        // unlimited password oracle, and each try costs a KDF run); a new password ends every other
        // login session of the user, as one would expect after "someone may know my password".
        route(router, .post, "/change_password") { request, context in
            let user = try context.requireRole(.observer)
            if let wait = self.loginLimiter.attemptPasswordChange(userID: user.id, now: self.clock()) {
                throw FleetAPIError.tooManyRequests(retryAfter: wait, reason: "too many password changes; retry in \(wait) s")
            }
            let body = try await decodeBody(ChangePasswordBody.self, from: request)
            if let problem = PasswordPolicy.problem(with: body.new_password) { throw FleetAPIError.invalid("new_password", problem) }
            let store = self.store
            let rounds = settings.passwordRounds
            let current = context.sessionDigest
            let now = self.clock()
            let record = try await store.user(id: user.id)
            let (oldPassword, newPassword) = (body.old_password, body.new_password)
            // The KDF runs off the cooperative pool: it is slow on purpose.
            let newHash = try await offload { () throws -> String? in
                guard let record, PasswordHashing.verify(oldPassword, against: record.passwordHash) else { return nil }
                return try PasswordHashing.hash(newPassword, rounds: rounds)
            }
            let changed = newHash != nil
            if let newHash {
                _ = try await store.updateUser(
                    id: user.id, UserChange(passwordHash: newHash, endSessions: true, keepingSession: current), now: now)
            }
            guard changed else { throw FleetAPIError.invalid("old_password", "does not match the current password") }
            await recordActivity(user, "changed_password")
            return emptyObjectResponse()
        }
        route(router, .get, "/version") { _, context in
            _ = try context.requireRole(.observer)
            return jsonResponse(.object([
                ("version", .string(settings.version)), ("branch", .string("")), ("revision", .string("")),
                ("build_date", .string("")), ("build_user", .string("")), ("server", .string("pomona")),
            ]))
        }
    }

    /// `POST /api/v1/setup`: the first admin, only while no user exists.
    func setup(_ request: Request) async throws -> Response {
        try Self.checkCookieRequest(request)
        let body = try await decodeBody(SetupBody.self, from: request)
        var new = body.admin ?? NewUserBody(name: body.name ?? "", email: body.email ?? "", password: body.password)
        new.global_role = Role.admin.rawValue
        new.api_only = false
        let validated = try new.validated()
        let rounds = settings.passwordRounds
        let store = self.store
        var created: UserRecord?
        // Cheap check first so a finished setup does not burn a KDF run per probe.
        if try await store.userCount() == 0 {
            let password = validated.password ?? ""
            let hash = try await offload { try PasswordHashing.hash(password, rounds: rounds) }
            created = try await store.createUser(
                name: validated.name, email: validated.email, passwordHash: hash, globalRole: Role.admin.rawValue, apiOnly: false,
                onlyIfNoUsers: true)
        }
        guard let created else { throw FleetAPIError.conflict("setup has already been done: log in instead") }
        let token = try await issueToken(userID: created.id, kind: .session)
        let admin = AdminUser(id: created.id, name: created.name, email: created.email, role: .admin, apiOnly: false)
        await recordActivity(admin, "setup_completed", .object([("email", .string(created.email))]))
        return Self.sessionResponse(request, token: token, [("admin", userJSON(created))])
    }

    /// `POST /login`: email and password → the user and a new session token. Rate-limited per
    /// (email, address), per address and, without locking the user out, per email (``LoginThrottle``);
    /// unknown emails cost as much as wrong passwords.
    func login(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        try Self.checkCookieRequest(request)
        let body = try await decodeBody(LoginBody.self, from: request)
        let email = body.email.trimmingCharacters(in: .whitespaces).lowercased()
        if email.isEmpty { throw FleetAPIError.invalid("email", "is required") }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = loginLimiter.attemptLogin(email: email, address: address, now: clock()) {
            throw FleetAPIError.tooManyRequests(retryAfter: wait)
        }
        let store = self.store
        let password = body.password
        let found = try await store.user(email: email)
        let ok = try await offload {
            PasswordHashing.verify(password, against: found?.passwordHash.isEmpty == false ? found!.passwordHash : PasswordHashing.decoy)
        }
        let record = ok ? found : nil
        guard let record, let role = Role(rawValue: record.globalRole) else {
            try? await store.recordActivity(
                actor: ActivityActor(id: nil, name: "", email: email), type: "user_failed_login",
                details: .object([("email", .string(email)), ("public_ip", .string(address))]))
            throw FleetAPIError(
                status: .unauthorized, message: "Authentication failed",
                errors: [.init(name: "base", reason: "Authentication failed")])
        }
        let token = try await issueToken(userID: record.id, kind: .session)
        let user = AdminUser(id: record.id, name: record.name, email: record.email, role: role, apiOnly: record.apiOnly)
        await recordActivity(user, "user_logged_in", .object([("public_ip", .string(address))]))
        return Self.sessionResponse(request, token: token, [("user", userJSON(record)), ("available_teams", .array([]))])
    }

    /// A login or setup asking for a cookie session must come from this origin (login CSRF).
    static func checkCookieRequest(_ request: Request) throws(FleetAPIError) {
        if BrowserSession.wantsCookie(request.headers) && !BrowserSession.fetchSiteAllowed(request.headers) {
            throw FleetAPIError(
                status: .forbidden, message: "Permission Denied", errors: [.init(name: "base", reason: "cross-site login refused")])
        }
    }

    /// The answer to a login or setup: the token in the body (CLI, scripts), or for a browser that
    /// sent `X-Pomona-Session: cookie`, in HttpOnly cookies and not in the body.
    static func sessionResponse(_ request: Request, token: String, _ members: [(String, JSONValue)]) -> Response {
        guard BrowserSession.wantsCookie(request.headers) else {
            var withToken = members
            withToken.insert(("token", .string(token)), at: min(1, withToken.count))
            return jsonResponse(.object(withToken))
        }
        var response = jsonResponse(.object(members))
        BrowserSession.append(BrowserSession.setCookies(sessionToken: token), to: &response.headers)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// Fleet's user object.
func userJSON(_ record: UserRecord) -> JSONValue {
    .object([
        ("id", .int(record.id)),
        ("name", .string(record.name)),
        ("email", .string(record.email)),
        ("global_role", .string(record.globalRole)),
        ("api_only", .bool(record.apiOnly)),
        ("sso_enabled", .bool(false)),
        ("force_password_reset", .bool(false)),
        ("teams", .array([])),
        ("created_at", .date(record.createdAt)),
        ("updated_at", .date(record.updatedAt)),
    ])
}
