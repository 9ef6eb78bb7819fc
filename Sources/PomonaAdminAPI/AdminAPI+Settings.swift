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
            let secrets = try await store.enrollSecrets()
            return jsonResponse(.object([("spec", .object([("secrets", .array(secrets.map(enrollSecretJSON)))]))]))
        }
        route(router, .post, "/spec/enroll_secret") { request, context in
            let admin = try context.requireRole(.admin)
            return try await self.applyEnrollSecrets(request, dryRun: queryParameter(request, "dry_run") == "true", by: admin)
        }
    }

    func storedAppConfig() async throws -> [(String, JSONValue)] {
        let text = try await store.configValue(AdminAPI.appConfigKey)
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
            let options = try await store.agentOptions() ?? AgentOptions.default
            members.append(("agent_options", .object([("config", options.config), ("overrides", .object([]))])))
        }
        members.append(("license", .object([("tier", .string("free"))])))
        return .object(members)
    }

    func patchConfig(_ request: Request, by admin: AdminUser) async throws -> Response {
        let body = try await parseJSONBody(request)
        let patch = try Self.configPatch(body)
        if queryParameter(request, "dry_run") == "true" { return jsonResponse(try await configJSON(includeAgentOptions: true)) }
        var batch = SpecBatch()
        batch.appConfigSections = patch.sections
        batch.appConfigKey = AdminAPI.appConfigKey
        // Agent options bump the config generation: agents get them on their next config refresh.
        batch.agentOptions = patch.agentOptions
        try await apply(batch, by: admin)
        return jsonResponse(try await configJSON(includeAgentOptions: true))
    }

    /// `POST /spec/enroll_secret`: the listed secrets become the active set, in one transaction.
    /// New secrets are added before the others are revoked, so no listed secret stops working.
    func applyEnrollSecrets(_ request: Request, dryRun: Bool, by admin: AdminUser) async throws -> Response {
        let body = try await parseJSONBody(request)
        var batch = SpecBatch()
        batch.enrollSecrets = try Self.enrollSecretList(body["spec"], field: "spec")
        try await apply(batch, by: admin, dryRun: dryRun)
        return emptyObjectResponse()
    }
}

func enrollSecretJSON(_ secret: EnrollSecret) -> JSONValue {
    .object([("secret", .string(secret.secret)), ("created_at", .date(secret.createdAt)), ("team_id", .null)])
}
