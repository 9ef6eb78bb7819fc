/// One entry of a route's `stages:` list, chosen by its `type`.
public enum StageConfiguration: Sendable {
    case filter(FilterStage)
    case transform(TransformStage)
    case throttle(ThrottleConfiguration)
    case enrich(EnrichStage)

    public static let types = ["filter", "transform", "throttle", "enrich"]

    /// The stage's name (given, or `<type><position>` such as `filter2`).
    public var name: String {
        switch self {
        case .filter(let stage): return stage.name
        case .transform(let stage): return stage.name
        case .throttle(let stage): return stage.name
        case .enrich(let stage): return stage.name
        }
    }

    var type: String {
        switch self {
        case .filter: return "filter"
        case .transform: return "transform"
        case .throttle: return "throttle"
        case .enrich: return "enrich"
        }
    }

    mutating func setDefaultName(position: Int) {
        guard name.isEmpty else { return }
        let name = "\(type)\(position)"
        switch self {
        case .filter(var stage): stage.name = name; self = .filter(stage)
        case .transform(var stage): stage.name = name; self = .transform(stage)
        case .throttle(var stage): stage.name = name; self = .throttle(stage)
        case .enrich(var stage): stage.name = name; self = .enrich(stage)
        }
    }
}

extension StageConfiguration: Decodable {
    enum Keys: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        guard container.contains(.type) else {
            throw decoder.configError("a stage needs \"type\": one of \(Self.types.joined(separator: ", "))")
        }
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "filter": self = .filter(try FilterStage(from: decoder))
        case "transform": self = .transform(try TransformStage(from: decoder))
        case "throttle": self = .throttle(try ThrottleConfiguration(from: decoder))
        case "enrich": self = .enrich(try EnrichStage(from: decoder))
        default:
            throw container.configError(.type, "\"\(type)\" is not a stage type (use one of \(Self.types.joined(separator: ", ")))")
        }
    }
}
