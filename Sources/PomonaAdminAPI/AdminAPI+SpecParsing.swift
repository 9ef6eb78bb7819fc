import Foundation
import Hummingbird
import PomonaCore
import PomonaStore

/// Turns spec documents (fleetctl's JSON form of `apiVersion: v1` YAML) into store changes, and
/// applies a batch of them.
///
/// Each parser is given the field its input sits under (`specs` for Fleet's per-kind endpoints,
/// `queries`, `labels`… for `POST /api/v1/pomona/spec`) so every error names the exact field,
/// `specs[2].query` or `packs[0].queries[1].interval`. Nothing is written until all of it parsed.
extension AdminAPI {
    /// The `specs` array of a Fleet spec body.
    static func specList(_ request: Request) async throws -> [JSONValue] {
        let body = try await parseJSONBody(request, limit: specBodyLimit)
        return try objectList(body["specs"], field: "specs")
    }

    /// Spec bodies carry whole schedules and packs: allow more than the default body size.
    static let specBodyLimit = 8 << 20

    /// An array of objects, or an error naming `field` (or the element that is not an object).
    static func objectList(_ value: JSONValue?, field: String) throws(FleetAPIError) -> [JSONValue] {
        guard let specs = value?.arrayValue else { throw FleetAPIError.invalid(field, "must be an array of spec objects") }
        for (index, spec) in specs.enumerated() where spec.objectMembers == nil {
            throw FleetAPIError.invalid("\(field)[\(index)]", "must be an object")
        }
        return specs
    }

    static func bool(_ value: JSONValue) -> Bool? {
        if case .bool(let b) = value { return b }
        return nil
    }

    /// Runs a validation and prefixes the field of its error with `field[i].`.
    static func prefixed<T>(_ field: String, _ index: Int, _ body: () throws(FleetAPIError) -> T) throws(FleetAPIError) -> T {
        do {
            return try body()
        } catch {
            var error = error
            error.errors = error.errors.map { .init(name: "\(field)[\(index)].\($0.name)", reason: $0.reason) }
            throw error
        }
    }

    /// Rejects a non-empty `team`: Pomona has global objects only.
    static func noTeam(_ spec: JSONValue, field: String) throws(FleetAPIError) {
        if let team = spec["team"]?.stringValue, !team.isEmpty { throw FleetAPIError.invalid("\(field).team", "teams are not supported") }
    }

    static func querySpecs(_ specs: [JSONValue], field: String) throws(FleetAPIError) -> [SavedQueryDraft] {
        var drafts: [SavedQueryDraft] = []
        for (index, spec) in specs.enumerated() {
            try noTeam(spec, field: "\(field)[\(index)]")
            let body = QueryBody(
                name: spec["name"]?.stringValue, description: spec["description"]?.stringValue, query: spec["query"]?.stringValue,
                interval: spec["interval"]?.intValue, platform: spec["platform"]?.stringValue,
                min_osquery_version: spec["min_osquery_version"]?.stringValue, logging: spec["logging"]?.stringValue,
                automations_enabled: spec["automations_enabled"].flatMap(bool), observer_can_run: spec["observer_can_run"].flatMap(bool),
                discard_data: spec["discard_data"].flatMap(bool), team_id: nil)
            drafts.append(try prefixed(field, index) { () throws(FleetAPIError) in try queryDraft(body, existing: nil) })
        }
        try noDuplicateNames(drafts.map(\.name), field: field)
        return drafts
    }

    static func labelSpecs(_ specs: [JSONValue], field: String) throws(FleetAPIError) -> [LabelSpec] {
        var labels: [LabelSpec] = []
        for (index, spec) in specs.enumerated() {
            let at = "\(field)[\(index)]"
            let name = try prefixed(field, index) { () throws(FleetAPIError) in try FleetSQL.name(spec["name"]?.stringValue) }
            let hosts = spec["hosts"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let query = spec["query"]?.stringValue ?? ""
            let type = spec["label_membership_type"]?.stringValue ?? (!query.isEmpty || hosts.isEmpty ? "dynamic" : "manual")
            guard type == "dynamic" || type == "manual" else { throw FleetAPIError.invalid("\(at).label_membership_type", "must be dynamic or manual") }
            let platform = spec["platform"]?.stringValue ?? ""
            if type == "dynamic" {
                if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw FleetAPIError.invalid("\(at).query", "a dynamic label needs a query") }
                try prefixed(field, index) { () throws(FleetAPIError) in try FleetSQL.validate(query, platform: platform) }
            }
            labels.append(LabelSpec(
                name: name, description: spec["description"]?.stringValue ?? "", query: type == "manual" ? "" : query, platform: platform,
                manual: type == "manual", hosts: hosts))
        }
        try noDuplicateNames(labels.map(\.name), field: field)
        return labels
    }

    static func policySpecs(_ specs: [JSONValue], field: String) throws(FleetAPIError) -> [PolicyDraft] {
        var drafts: [PolicyDraft] = []
        for (index, spec) in specs.enumerated() {
            let at = "\(field)[\(index)]"
            try noTeam(spec, field: at)
            let name = try prefixed(field, index) { () throws(FleetAPIError) in try FleetSQL.name(spec["name"]?.stringValue) }
            let query = spec["query"]?.stringValue ?? ""
            if query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw FleetAPIError.invalid("\(at).query", "must not be empty") }
            let platform = spec["platform"]?.stringValue ?? ""
            try prefixed(field, index) { () throws(FleetAPIError) in try FleetSQL.validate(query, platform: platform) }
            drafts.append(PolicyDraft(
                name: name, query: query, description: spec["description"]?.stringValue ?? "", resolution: spec["resolution"]?.stringValue ?? "",
                platform: platform, critical: spec["critical"].flatMap(bool) ?? false))
        }
        try noDuplicateNames(drafts.map(\.name), field: field)
        return drafts
    }

    static func packSpecs(_ specs: [JSONValue], field: String) throws(FleetAPIError) -> [PackSpec] {
        var packs: [PackSpec] = []
        for (index, spec) in specs.enumerated() {
            let name = try prefixed(field, index) { () throws(FleetAPIError) in try FleetSQL.name(spec["name"]?.stringValue) }
            let platform = try prefixed(field, index) { () throws(FleetAPIError) in try packPlatform(spec["platform"]?.stringValue) } ?? ""
            var queries: [PackQuerySpec] = []
            for (qi, q) in (spec["queries"]?.arrayValue ?? []).enumerated() {
                let at = "\(field)[\(index)].queries[\(qi)]"
                guard let queryName = q["query"]?.stringValue, !queryName.isEmpty else { throw FleetAPIError.invalid("\(at).query", "must name a saved query") }
                guard let interval = q["interval"]?.intValue, (1...604_800).contains(interval) else {
                    throw FleetAPIError.invalid("\(at).interval", "must be between 1 and 604800 seconds")
                }
                let logging = ScheduleLogging.from(snapshot: q["snapshot"].flatMap(bool), removed: q["removed"].flatMap(bool)) ?? .snapshot
                let version = q["version"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                queries.append(PackQuerySpec(
                    query: queryName, name: q["name"]?.stringValue ?? queryName, description: q["description"]?.stringValue ?? "", interval: interval,
                    logging: logging, platform: q["platform"]?.stringValue ?? "", version: version, shard: q["shard"]?.intValue,
                    denylist: q["denylist"].flatMap(bool) ?? true))
            }
            var targetLabels: [String] = []
            if let targets = spec["targets"], targets != .null {
                let at = "\(field)[\(index)].targets"
                guard targets.objectMembers != nil else { throw FleetAPIError.invalid(at, "must be an object with labels") }
                if let teams = targets["teams"]?.arrayValue, !teams.isEmpty { throw FleetAPIError.invalid("\(at).teams", "teams are not supported") }
                for (li, label) in (targets["labels"]?.arrayValue ?? []).enumerated() {
                    guard let text = label.stringValue, !text.isEmpty else { throw FleetAPIError.invalid("\(at).labels[\(li)]", "must be a label name") }
                    targetLabels.append(text)
                }
            }
            packs.append(PackSpec(
                name: name, description: spec["description"]?.stringValue ?? "", platform: platform, disabled: spec["disabled"].flatMap(bool) ?? false,
                queries: queries, targetLabels: targetLabels))
        }
        try noDuplicateNames(packs.map(\.name), field: field)
        return packs
    }

    /// The enroll secrets of `{"secrets": [{"secret": "..."}]}` under `field`.
    static func enrollSecretList(_ spec: JSONValue?, field: String) throws(FleetAPIError) -> [String] {
        guard let items = spec?["secrets"]?.arrayValue else { throw FleetAPIError.invalid("\(field).secrets", "must be an array of {\"secret\": \"...\"}") }
        var wanted: [String] = []
        for (index, item) in items.enumerated() {
            let at = "\(field).secrets[\(index)].secret"
            guard let text = item["secret"]?.stringValue else { throw FleetAPIError.invalid(at, "must be a string") }
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if secret.count < 16 { throw FleetAPIError.invalid(at, "must be at least 16 characters (it is the only thing that admits a host)") }
            if secret.count > 255 { throw FleetAPIError.invalid(at, "must be at most 255 characters") }
            if wanted.contains(secret) { throw FleetAPIError.invalid(at, "is listed twice") }
            wanted.append(secret)
        }
        return wanted
    }

    /// A `PATCH /config` body: sections merged key by key, and agent options replaced whole.
    /// `field` prefixes error names (`config.` in the all-kinds endpoint, empty for `/config`).
    static func configPatch(_ body: JSONValue, field: String = "") throws(FleetAPIError) -> (sections: [(String, [(String, JSONValue)])], agentOptions: AgentOptions?) {
        guard let members = body.objectMembers else {
            throw field.isEmpty ? FleetAPIError.badRequest("the body must be a JSON object") : FleetAPIError.invalid(field, "must be an object")
        }
        let prefix = field.isEmpty ? "" : field + "."
        var agentOptions: AgentOptions?
        var sections: [(String, [(String, JSONValue)])] = []
        for (key, value) in members {
            if key == "agent_options" {
                // Fleet's shape is {"config": {...}, "overrides": {...}}; a bare config object is accepted too.
                let config = value["config"] ?? value
                if value["overrides"]?.objectMembers?.isEmpty == false {
                    throw FleetAPIError.invalid("\(prefix)agent_options.overrides", "per-platform overrides are not supported; use one config")
                }
                do { agentOptions = try AgentOptions(config: config) } catch {
                    throw FleetAPIError.invalid("\(prefix)agent_options", error.message)
                }
            } else if configSections.contains(key) {
                guard let object = value.objectMembers else { throw FleetAPIError.invalid(prefix + key, "must be an object") }
                sections.append((key, object))
            } else {
                throw FleetAPIError.invalid(prefix + key, "is not a config section Pomona knows (\(configSections.joined(separator: ", ")), agent_options)")
            }
        }
        if let url = sections.first(where: { $0.0 == "server_settings" })?.1.first(where: { $0.0 == "server_url" })?.1 {
            guard let text = url.stringValue, text.isEmpty || URL(string: text)?.scheme == "https" else {
                throw FleetAPIError.invalid("\(prefix)server_settings.server_url", "must be an https URL")
            }
        }
        return (sections, agentOptions)
    }

    /// Two documents of one kind with one name would silently overwrite each other: refuse.
    static func noDuplicateNames(_ names: [String], field: String) throws(FleetAPIError) {
        var seen: Set<String> = []
        for (index, name) in names.enumerated() where !seen.insert(name).inserted {
            throw FleetAPIError.invalid("\(field)[\(index)].name", "\"\(name)\" is given twice")
        }
    }

    /// Applies `batch` in one store transaction, then hands changed label and policy queries to
    /// the check-in path and records one activity per kind (never the secrets themselves).
    @discardableResult
    func apply(_ batch: SpecBatch, by user: AdminUser, dryRun: Bool = false) async throws -> SpecBatchOutcome {
        let store = self.store
        let author = user.author
        let outcome: SpecBatchOutcome
        do {
            // Served outside `route`, so the store's refusals are mapped here.
            outcome = try await store.applySpecs(batch, author: author, dryRun: dryRun)
        } catch let error as FleetStoreError {
            throw error.apiError
        }
        if dryRun { return outcome }
        if !batch.labels.isEmpty || !batch.policies.isEmpty { try await reloadEvaluationQueries() }
        let names: [(String, [String])] = [
            ("applied_spec_saved_query", batch.queries.map(\.name)), ("applied_spec_label", batch.labels.map(\.name)),
            ("applied_spec_policy", batch.policies.map(\.name)), ("applied_spec_pack", batch.packs.map(\.name)),
        ]
        for (type, specs) in names where !specs.isEmpty {
            await recordActivity(user, type, .object([("specs", .array(specs.map(JSONValue.string)))]))
        }
        if batch.enrollSecrets != nil {
            await recordActivity(user, "applied_spec_enroll_secret", .object([
                ("added", .int(outcome.enrollSecretsAdded)), ("revoked", .int(outcome.enrollSecretsRevoked)),
            ]))
        }
        if !batch.appConfigSections.isEmpty || batch.agentOptions != nil {
            await recordActivity(user, "edited_config", .object([
                ("sections", .array(batch.appConfigSections.map { .string($0.0) } + (batch.agentOptions == nil ? [] : [.string("agent_options")]))),
            ]))
        }
        if batch.agentOptions != nil { await recordActivity(user, "edited_agent_options", .object([("global", .bool(true))])) }
        return outcome
    }
}
