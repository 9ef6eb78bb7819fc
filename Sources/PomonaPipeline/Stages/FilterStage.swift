/// Drops events by a condition: `discard` drops the events that match, `keep` drops the ones that
/// do not.
///
/// ```yaml
/// - type: filter
///   name: drop-noisy-queries
///   action: discard            # default; or keep
///   when: { field: name, in: [pack_it_usb_devices, pack_it_mounts] }
/// ```
public struct FilterStage: Sendable {
    public enum Action: String, Sendable, Decodable {
        case discard, keep
    }

    public var name: String
    public var action: Action
    public var condition: Condition

    public init(name: String = "filter", action: Action = .discard, condition: Condition) {
        self.name = name
        self.action = action
        self.condition = condition
    }

    /// Whether the stage drops `event`.
    public func drops(_ event: inout EventDraft) -> Bool {
        condition.matches(&event) == (action == .discard)
    }
}

extension FilterStage: Decodable {
    enum Keys: String, CodingKey { case type, name, action, when }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["type", "name", "action", "when"])
        let container = try decoder.container(keyedBy: Keys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        if let text = try container.decodeIfPresent(String.self, forKey: .action) {
            guard let action = Action(rawValue: text) else {
                throw container.configError(.action, "\"\(text)\" is not an action (use discard or keep)")
            }
            self.action = action
        } else {
            action = .discard
        }
        guard container.contains(.when) else { throw decoder.configError("a filter needs \"when\": the condition it tests") }
        condition = try container.decode(Condition.self, forKey: .when)
    }
}
