import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Global config (`GET/PATCH /config`) and enroll secrets (`GET/POST /spec/enroll_secret`).
extension AdminAPI {
    /// Config sections kept as given (objects merged key by key on PATCH); `agent_options` is
    /// validated and replaces the stored options as a whole, like Fleet.
    static let configSections = [
        "org_info", "server_settings", "features", "host_expiry_settings", "webhook_settings", "integrations",
        "smtp_settings", "sso_settings", "fleet_desktop",
    ]
    static let appConfigKey = "admin_app_config"

    struct EnrollSecretSpecBody: Decodable {
        struct Spec: Decodable {
            struct Secret: Decodable { var secret: String }
            var secrets: [Secret]
        }
        var spec: Spec
    }

    func registerSettings(on router: Router<AdminRequestContext>) {
        route(router, .get, "/config") { _, context in
            let user = try context.requireRole(.observer)
            return jsonResponse(try await self.configJSON(includeAgentOptions: user.role >= .maintainer))
        }
        route(router, .patch, "/config") { request, context in
            let admin = try context.requireRole(.admin)
            return try await self.patchConfig(request, by: admin)
        }
        route(router, .get, "/spec/enroll_secret") { _, context in
            _ = try context.requireRole(.maintainer)
            let secrets = try await offload { [store] in try store.enrollSecrets() }
            return jsonResponse(.object([("spec", .object([("secrets", .array(secrets.map(enrollSecretJSON)))]))]))
        }
        route(router, .post, "/spec/enroll_secret") { request, context in
            let admin = try context.requireRole(.admin)
            return try await self.applyEnrollSecrets(request, dryRun: queryParameter(request, "dry_run") == "true", by: admin)
        }
    }

    func storedAppConfig() async throws -> [(String, JSONValue)] {
        let text = try await offload { [store] in try store.configValue(AdminAPI.appConfigKey) }
        guard let text, let value = try? JSONValue.parse(Array(text.utf8)), let members = value.objectMembers else { return [] }
        return members
    }

    func configJSON(includeAgentOptions: Bool) async throws -> JSONValue {
        let stored = try await storedAppConfig()
        var members: [(String, JSONValue)] = []
        for section in AdminAPI.configSections {
            members.append((section, stored.first(where: { $0.0 == section })?.1 ?? .object([])))
        }
        if includeAgentOptions {
            let options = try await offload { [store] in try store.agentOptions() } ?? AgentOptions.default
            members.append(("agent_options", .object([("config", options.config), ("overrides", .object([]))])))
        }
        members.append(("license", .object([("tier", .string("free"))])))
        return .object(members)
    }

    func patchConfig(_ request: Request, by admin: AdminUser) async throws -> Response {
        let body = try await parseJSONBody(request)
        guard let members = body.objectMembers else { throw FleetAPIError.badRequest("the body must be a JSON object") }
        var agentOptions: AgentOptions?
        var sections: [(String, [(String, JSONValue)])] = []
        for (key, value) in members {
            if key == "agent_options" {
                // Fleet's shape is {"config": {...}, "overrides": {...}}; a bare config object is accepted too.
                let config = value["config"] ?? value
                if value["overrides"]?.objectMembers?.isEmpty == false {
                    throw FleetAPIError.invalid("agent_options.overrides", "per-platform overrides are not supported; use one config")
                }
                do { agentOptions = try AgentOptions(config: config) } catch {
                    throw FleetAPIError.invalid("agent_options", error.message)
                }
            } else if AdminAPI.configSections.contains(key) {
                guard let object = value.objectMembers else { throw FleetAPIError.invalid(key, "must be an object") }
                sections.append((key, object))
            } else {
                throw FleetAPIError.invalid(key, "is not a config section Pomona knows (\(AdminAPI.configSections.joined(separator: ", ")), agent_options)")
            }
        }
        if let url = sections.first(where: { $0.0 == "server_settings" })?.1.first(where: { $0.0 == "server_url" })?.1 {
            guard let text = url.stringValue, text.isEmpty || URL(string: text)?.scheme == "https" else {
                throw FleetAPIError.invalid("server_settings.server_url", "must be an https URL")
            }
        }
        if queryParameter(request, "dry_run") == "true" { return jsonResponse(try await configJSON(includeAgentOptions: true)) }
        var stored = try await storedAppConfig()
        for (section, object) in sections {
            var merged = stored.first(where: { $0.0 == section })?.1.objectMembers ?? []
            for (key, value) in object {
                if let index = merged.firstIndex(where: { $0.0 == key }) { merged[index].1 = value } else { merged.append((key, value)) }
            }
            if let index = stored.firstIndex(where: { $0.0 == section }) { stored[index].1 = .object(merged) } else { stored.append((section, .object(merged))) }
        }
        let store = self.store
        let text = String(decoding: JSONValue.object(stored).encoded(), as: UTF8.self)
        let changeSections = !sections.isEmpty
        let newOptions = agentOptions
        try await offload {
            if changeSections { try store.setConfigValue(AdminAPI.appConfigKey, text) }
            // Bumps the config generation: agents get the new options on their next config refresh.
            if let newOptions { try store.setAgentOptions(newOptions) }
        }
        await recordActivity(admin, "edited_config", .object([
            ("sections", .array(sections.map { .string($0.0) } + (agentOptions == nil ? [] : [.string("agent_options")]))),
        ]))
        if agentOptions != nil { await recordActivity(admin, "edited_agent_options", .object([("global", .bool(true))])) }
        return jsonResponse(try await configJSON(includeAgentOptions: true))
    }

    func applyEnrollSecrets(_ request: Request, dryRun: Bool, by admin: AdminUser) async throws -> Response {
        let body = try await decodeBody(EnrollSecretSpecBody.self, from: request)
        var wanted: [String] = []
        for (index, item) in body.spec.secrets.enumerated() {
            let secret = item.secret.trimmingCharacters(in: .whitespacesAndNewlines)
            let field = "spec.secrets[\(index)].secret"
            if secret.count < 16 { throw FleetAPIError.invalid(field, "must be at least 16 characters (it is the only thing that admits a host)") }
            if secret.count > 255 { throw FleetAPIError.invalid(field, "must be at most 255 characters") }
            if wanted.contains(secret) { throw FleetAPIError.invalid(field, "is listed twice") }
            wanted.append(secret)
        }
        if dryRun { return emptyObjectResponse() }
        let store = self.store
        let wantedSecrets = wanted
        let (added, revoked) = try await offload { () throws -> (Int, Int) in
            let current = Set(try store.enrollSecrets().map(\.secret))
            // New secrets first, then revocations: at no moment does a listed secret stop working.
            var added = 0
            for secret in wantedSecrets where !current.contains(secret) {
                _ = try store.addEnrollSecret(secret, name: "api")
                added += 1
            }
            var revoked = 0
            for secret in current where !wantedSecrets.contains(secret) {
                if try store.revokeEnrollSecret(secret) { revoked += 1 }
            }
            return (added, revoked)
        }
        // The secrets themselves never go into the audit log.
        await recordActivity(admin, "applied_spec_enroll_secret", .object([("added", .int(added)), ("revoked", .int(revoked))]))
        return emptyObjectResponse()
    }
}

func enrollSecretJSON(_ secret: EnrollSecret) -> JSONValue {
    .object([("secret", .string(secret.secret)), ("created_at", .date(secret.createdAt)), ("team_id", .null)])
}
