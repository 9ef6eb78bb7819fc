/// Adds what Pomona knows about the event's host under one object (default `host`):
///
/// ```json
/// "host": {"hostname": "web-01", "uuid": "4C4C…", "hardware_serial": "…", "platform": "ubuntu",
///          "os_version": "22.04.4 LTS", "primary_ip": "10.0.0.5", "primary_mac": "…",
///          "logged_in_user": "alice", "labels": ["All Hosts", "Linux"]}
/// ```
///
/// osquery events carry their host (``SpooledEvent/hostID``); for other events the host is looked
/// up by the value of `identifier_field` (uuid, hostname, serial or osquery host identifier). An
/// event whose host is unknown passes unchanged and is counted.
///
/// ```yaml
/// - type: enrich
///   field: host                      # default
///   identifier_field: hostIdentifier # default; used when the event has no enrolled host
/// ```
public struct EnrichStage: Sendable {
    public var name: String
    public var field: String
    public var identifierField: FieldPath?

    public init(name: String = "enrich", field: String = "host", identifierField: FieldPath? = EnrichStage.defaultIdentifierField) {
        self.name = name
        self.field = field
        self.identifierField = identifierField
    }

    public static let defaultIdentifierField: FieldPath? = try? FieldPath("hostIdentifier")

    /// The host's facts, looked up by id first, then by the identifier field.
    public func facts(for event: inout EventDraft, hostID: Int64?, provider: any HostFactsProvider) -> HostFacts? {
        if let hostID, let facts = provider.facts(hostID: hostID) { return facts }
        if let identifierField, let identifier = event.text(at: identifierField), !identifier.isEmpty {
            return provider.facts(identifier: identifier)
        }
        return nil
    }

    /// Adds the host object; returns the facts used, or nil (event unchanged) when the host is unknown.
    @discardableResult
    public func apply(_ event: inout EventDraft, hostID: Int64?, provider: any HostFactsProvider) -> HostFacts? {
        var cache = HostObjectCache()
        return apply(&event, hostID: hostID, provider: provider, cache: &cache)
    }

    /// As ``apply(_:hostID:provider:)``, reusing host objects already encoded.
    @discardableResult
    public func apply(_ event: inout EventDraft, hostID: Int64?, provider: any HostFactsProvider, cache: inout HostObjectCache) -> HostFacts? {
        guard let facts = facts(for: &event, hostID: hostID, provider: provider) else { return nil }
        event.setTopLevel(name: field, rawValue: cache.json(for: facts))
        return facts
    }

    /// The host object's JSON.
    public static func encode(_ facts: HostFacts) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        let pairs: [(String, String)] = [
            ("hostname", facts.hostname), ("uuid", facts.uuid), ("hardware_serial", facts.hardwareSerial),
            ("platform", facts.platform), ("os_version", facts.osVersion), ("primary_ip", facts.primaryIP),
            ("primary_mac", facts.primaryMAC), ("logged_in_user", facts.loggedInUser),
        ]
        for (key, value) in pairs {
            RawJSON.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            RawJSON.appendString(value, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""labels":["#.utf8)
        for (n, label) in facts.labels.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            RawJSON.appendString(label, to: &out)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }
}

/// Host objects already encoded, by host id; an entry is reused only while the facts are equal.
public struct HostObjectCache: Sendable {
    var entries: [Int64: (facts: HostFacts, json: [UInt8])] = [:]
    let capacity: Int

    public init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    mutating func json(for facts: HostFacts) -> [UInt8] {
        if let hit = entries[facts.id], hit.facts == facts { return hit.json }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        let json = EnrichStage.encode(facts)
        entries[facts.id] = (facts, json)
        return json
    }
}

extension EnrichStage: Decodable {
    enum Keys: String, CodingKey { case type, name, field, identifier_field }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["type", "name", "field", "identifier_field"])
        let container = try decoder.container(keyedBy: Keys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        field = try container.decodeIfPresent(String.self, forKey: .field) ?? "host"
        guard !field.isEmpty, !field.contains("."), !field.hasPrefix("@") else {
            throw container.configError(.field, "the host object's name is one top-level key, without dots")
        }
        identifierField = container.contains(.identifier_field)
            ? try container.decodeFieldPath(.identifier_field) : Self.defaultIdentifierField
    }
}
