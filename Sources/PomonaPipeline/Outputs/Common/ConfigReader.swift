/// Reads one mapping of the configuration strictly: unknown keys are errors, and every failure is
/// a `DecodingError` whose coding path names the key (``OutputConfigurationError/unwrap(_:)``
/// renders it as `outputs[1].tls.ca_file: …`).
///
/// Works with any `Decoder` (Yams' `YAMLDecoder`, `JSONDecoder`), so the pipeline file's loader
/// can decode outputs as part of its own document.
struct ConfigReader {
    private let container: KeyedDecodingContainer<ConfigKey>
    let codingPath: [any CodingKey]

    /// `allowed: nil` reads without checking keys (the type dispatcher leaves that to the type).
    init(_ decoder: any Decoder, allowed: Set<String>?) throws(DecodingError) {
        codingPath = decoder.codingPath
        do {
            container = try decoder.container(keyedBy: ConfigKey.self)
        } catch {
            throw .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "must be a mapping"))
        }
        guard let allowed else { return }
        let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
        if let first = unknown.first {
            throw self.error(first, "unknown key (known keys: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// The error for `key`, as a `DecodingError` so that it passes through any decoder (Yams
    /// wraps other error types and loses the path) and carries the full key path.
    func error(_ key: String, _ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath + [ConfigKey(key)], debugDescription: message))
    }

    func path(_ key: String) -> String { ConfigKey.render(codingPath + [ConfigKey(key)]) }

    func contains(_ key: String) -> Bool { container.contains(ConfigKey(key)) }

    func optional<T: Decodable>(_ key: String, _ type: T.Type = T.self) throws(DecodingError) -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: ConfigKey(key))
        } catch let error as DecodingError {
            throw error
        } catch {
            throw self.error(key, "\(error)")
        }
    }

    func required<T: Decodable>(_ key: String, _ type: T.Type = T.self) throws(DecodingError) -> T {
        guard let value = try optional(key, T.self) else { throw error(key, "is required") }
        return value
    }

    /// A `Double` that must lie in `range` (seconds, sizes).
    func number(_ key: String, in range: ClosedRange<Double>) throws(DecodingError) -> Double? {
        guard let value = try optional(key, Double.self) else { return nil }
        guard range.contains(value) else { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(DecodingError) -> Int? {
        guard let value = try optional(key, Int.self) else { return nil }
        guard range.contains(value) else { throw error(key, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    /// A string that must be one of `choices`.
    func choice(_ key: String, _ choices: [String]) throws(DecodingError) -> String? {
        guard let value = try optional(key, String.self) else { return nil }
        guard choices.contains(value) else { throw error(key, "\"\(value)\" is not one of \(choices.joined(separator: ", "))") }
        return value
    }

    /// A decoding error as the operator should read it, with the key path.
    static func translate(_ error: DecodingError) -> OutputConfigurationError {
        switch error {
        case .typeMismatch(let type, let context):
            return OutputConfigurationError(key: ConfigKey.render(context.codingPath), "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return OutputConfigurationError(key: ConfigKey.render(context.codingPath), "expected \(describe(type)), found nothing")
        case .keyNotFound(let key, let context):
            return OutputConfigurationError(key: ConfigKey.render(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            return OutputConfigurationError(key: ConfigKey.render(context.codingPath), context.debugDescription)
        @unknown default:
            return OutputConfigurationError(key: "(unknown)", "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is [String: String].Type: return "a mapping of strings"
        default: return "\(type)"
        }
    }
}

/// Any key of a mapping (the reader checks names itself).
struct ConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    /// `outputs[1].tls.ca_file`
    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue, key.stringValue == String(index) || key.stringValue.hasPrefix("Index ") {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "(top level)" : text
    }
}
