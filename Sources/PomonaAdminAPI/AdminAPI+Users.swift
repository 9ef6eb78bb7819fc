import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// A user to create (`POST /users/admin`, and the admin in `POST /setup`).
struct NewUserBody: Decodable {
    var name: String
    var email: String
    var password: String?
    var global_role: String?
    var api_only: Bool?

    init(name: String, email: String, password: String?) {
        self.name = name
        self.email = email
        self.password = password
    }

    struct Validated: Sendable {
        var name: String
        var email: String
        var password: String?
        var role: Role
        var apiOnly: Bool
    }

    /// Checks every field, naming the first bad one.
    func validated() throws(FleetAPIError) -> Validated {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty { throw .invalid("name", "is required") }
        if name.count > 255 { throw .invalid("name", "must be at most 255 characters") }
        let email = try validatedEmail(email)
        let role = try validatedRole(global_role ?? "")
        let apiOnly = api_only ?? false
        if let password {
            if let problem = PasswordPolicy.problem(with: password) { throw .invalid("password", problem) }
        } else if !apiOnly {
            throw .invalid("password", "is required")
        }
        return Validated(name: name, email: email, password: password, role: role, apiOnly: apiOnly)
    }
}

func validatedEmail(_ text: String) throws(FleetAPIError) -> String {
    let email = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    if email.isEmpty { throw .invalid("email", "is required") }
    let parts = email.split(separator: "@", omittingEmptySubsequences: false)
    guard email.count <= 255, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !email.contains(where: \.isWhitespace) else {
        throw .invalid("email", "must be an email address")
    }
    return email
}

func validatedRole(_ text: String) throws(FleetAPIError) -> Role {
    if text.isEmpty { throw .invalid("global_role", "is required (admin, maintainer or observer)") }
    guard let role = Role(rawValue: text) else { throw .invalid("global_role", "must be admin, maintainer or observer, not \"\(text)\"") }
    return role
}

/// Users CRUD (admins only, except reading yourself).
extension AdminAPI {
    struct UserPatchBody: Decodable {
        var name: String?
        var email: String?
        var global_role: String?
        var password: String?
    }

    func registerUsers(on router: Router<AdminRequestContext>) {
        route(router, .get, "/users") { request, context in
            _ = try context.requireRole(.admin)
            let options = try ListOptions(request, defaultSort: UserSortKey.name)
            let users = try await store.users()
            let (items, meta) = pagedInMemory(
                users, options, matches: { $0.name.lowercased().contains($1) || $0.email.lowercased().contains($1) },
                less: options.sort.inIncreasingOrder)
            return jsonResponse(.object([("users", .array(items.map(userJSON))), ("meta", meta)]))
        }
        route(router, .post, "/users/admin") { request, context in
            let admin = try context.requireRole(.admin)
            return try await self.createUser(request, by: admin)
        }
        route(router, .get, "/users/:id") { _, context in
            let user = try context.requireRole(.observer)
            let id = try pathID(context)
            if id != user.id { _ = try context.requireRole(.admin) }
            guard let record = try await store.user(id: id) else { throw FleetAPIError.notFound("user \(id)") }
            return jsonResponse(.object([("user", userJSON(record))]))
        }
        route(router, .patch, "/users/:id") { request, context in
            let admin = try context.requireRole(.admin)
            return try await self.updateUser(request, id: try pathID(context), by: admin)
        }
        route(router, .delete, "/users/:id") { _, context in
            let admin = try context.requireRole(.admin)
            let id = try pathID(context)
            let store = self.store
            let deleted: UserRecord
            do {
                deleted = try await store.deleteUser(id: id)
            } catch UserStoreError.notFound {
                throw FleetAPIError.notFound("user \(id)")
            } catch UserStoreError.lastAdmin {
                throw FleetAPIError.conflict("cannot delete the last admin")
            }
            await recordActivity(admin, "deleted_user", .object([
                ("user_id", .int(deleted.id)), ("user_name", .string(deleted.name)), ("user_email", .string(deleted.email)),
            ]))
            return emptyObjectResponse()
        }
        // A new long-lived token for an API-only user (the old one stops working).
        route(router, .post, "/users/:id/api_token") { _, context in
            let admin = try context.requireRole(.admin)
            let id = try pathID(context)
            guard let record = try await store.user(id: id) else { throw FleetAPIError.notFound("user \(id)") }
            guard record.apiOnly else { throw FleetAPIError.invalid("api_only", "user \(id) is not an API-only user; they log in instead") }
            let token = try await self.issueToken(userID: id, kind: .api, replacingExisting: true)
            await recordActivity(admin, "rotated_api_token", .object([("user_id", .int(id)), ("user_email", .string(record.email))]))
            return jsonResponse(.object([("user", userJSON(record)), ("token", .string(token))]))
        }
    }

    func createUser(_ request: Request, by admin: AdminUser) async throws -> Response {
        let body = try await decodeBody(NewUserBody.self, from: request)
        let new = try body.validated()
        let rounds = settings.passwordRounds
        let store = self.store
        let record: UserRecord
        do {
            let password = new.password
            let hash = try await offload { try password.map { try PasswordHashing.hash($0, rounds: rounds) } ?? "" }
            record = try await store.createUser(
                name: new.name, email: new.email, passwordHash: hash, globalRole: new.role.rawValue, apiOnly: new.apiOnly)!
        } catch UserStoreError.emailTaken {
            throw FleetAPIError(status: .conflict, message: "Conflict", errors: [.init(name: "email", reason: "is already used by another user")])
        }
        var members: [(String, JSONValue)] = [("user", userJSON(record))]
        if new.apiOnly {
            // Returned once: only its digest is stored.
            members.append(("token", .string(try await issueToken(userID: record.id, kind: .api))))
        }
        await recordActivity(admin, "created_user", .object([
            ("user_id", .int(record.id)), ("user_name", .string(record.name)), ("user_email", .string(record.email)),
            ("global_role", .string(record.globalRole)), ("api_only", .bool(record.apiOnly)),
        ]))
        return jsonResponse(.object(members))
    }

    func updateUser(_ request: Request, id: Int64, by admin: AdminUser) async throws -> Response {
        let body = try await decodeBody(UserPatchBody.self, from: request)
        let name = body.name?.trimmingCharacters(in: .whitespacesAndNewlines)
        if name?.isEmpty == true { throw FleetAPIError.invalid("name", "must not be empty") }
        let email = try body.email.map { (e: String) throws(FleetAPIError) -> String in try validatedEmail(e) }
        let role = try body.global_role.map { (r: String) throws(FleetAPIError) -> Role in try validatedRole(r) }
        if let password = body.password, let problem = PasswordPolicy.problem(with: password) { throw FleetAPIError.invalid("password", problem) }
        let rounds = settings.passwordRounds
        let store = self.store
        let before: UserRecord?
        let after: UserRecord
        do {
            before = try await store.user(id: id)
            let password = body.password
            let hash = try await offload { try password.map { try PasswordHashing.hash($0, rounds: rounds) } }
            after = try await store.updateUser(
                id: id, UserChange(name: name, email: email, globalRole: role?.rawValue, passwordHash: hash, endSessions: hash != nil))
        } catch UserStoreError.notFound {
            throw FleetAPIError.notFound("user \(id)")
        } catch UserStoreError.lastAdmin {
            throw FleetAPIError.conflict("cannot demote the last admin")
        } catch UserStoreError.emailTaken {
            throw FleetAPIError(status: .conflict, message: "Conflict", errors: [.init(name: "email", reason: "is already used by another user")])
        }
        if let role, before?.globalRole != role.rawValue {
            await recordActivity(admin, "changed_user_global_role", .object([
                ("user_id", .int(id)), ("user_email", .string(after.email)), ("role", .string(role.rawValue)),
            ]))
        }
        if name != nil || email != nil || body.password != nil {
            await recordActivity(admin, "edited_user", .object([
                ("user_id", .int(id)), ("user_email", .string(after.email)), ("password_changed", .bool(body.password != nil)),
            ]))
        }
        return jsonResponse(.object([("user", userJSON(after))]))
    }
}
