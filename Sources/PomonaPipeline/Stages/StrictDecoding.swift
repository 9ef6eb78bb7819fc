import Foundation

/// A coding key for any name: lets config types list the keys a mapping really has.
struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws when the mapping has a key outside `allowed`, so a typo in the configuration is an
    /// error at start-up instead of a silently ignored setting.
    func rejectUnknownKeys(_ allowed: [String]) throws {
        let container = try container(keyedBy: AnyConfigKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "unknown key \"\(key.stringValue)\" (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    /// A configuration error at this decoder's position.
    func configError(_ message: String) -> DecodingError {
        DecodingError.dataCorrupted(DecodingError.Context(codingPath: codingPath, debugDescription: message))
    }
}

extension KeyedDecodingContainer {
    /// A configuration error at `key`.
    func configError(_ key: Key, _ message: String) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: message)
    }

    /// Decodes a field path, with the path's own problem reported at `key`.
    func decodeFieldPath(_ key: Key) throws -> FieldPath {
        let text = try decode(String.self, forKey: key)
        do { return try FieldPath(text) } catch { throw configError(key, error.description) }
    }

    func decodeFieldPaths(_ key: Key) throws -> [FieldPath] {
        let texts = try decode(OneOrMany<String>.self, forKey: key).values
        do { return try texts.map { (text: String) throws(FieldPathError) -> FieldPath in try FieldPath(text) } } catch {
            throw configError(key, error.description)
        }
    }

    /// A duration: a number of seconds, or a string like `30s`, `1m`, `1h`, `500ms`.
    func decodeDuration(_ key: Key) throws -> Double {
        if let seconds = try? decode(Double.self, forKey: key) {
            guard seconds > 0, seconds.isFinite else { throw configError(key, "must be a positive number of seconds") }
            return seconds
        }
        let text = try decode(String.self, forKey: key)
        guard let seconds = parseDuration(text), seconds > 0 else {
            throw configError(key, "\"\(text)\" is not a duration (write e.g. 30s, 1m, 1h, 500ms, or a number of seconds)")
        }
        return seconds
    }
}

/// Seconds in `30s`, `1m`, `1.5h`, `500ms`, `2d` or a bare number; nil otherwise.
func parseDuration(_ text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
    for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
        guard let number = Double(trimmed.dropLast(suffix.count)), number.isFinite else { return nil }
        return number * factor
    }
    return Double(trimmed).flatMap { $0.isFinite ? $0 : nil }
}

/// A YAML value written either as one item or as a list of items.
struct OneOrMany<Element: Decodable>: Decodable {
    var values: [Element]
    init(from decoder: any Decoder) throws {
        if let list = try? [Element](from: decoder) {
            values = list
        } else {
            values = [try Element(from: decoder)]
        }
    }
}

/// Renders a decoding error of the pipeline configuration as one line naming the offending key,
/// e.g. `pipeline.routes[0].stages[1].limit: expected a number`.
public func describeConfigurationError(_ error: any Error, root: String = "pipeline") -> String {
    guard let error = error as? DecodingError else { return "\(root): \(error)" }
    func path(_ codingPath: [any CodingKey]) -> String {
        var text = root
        for key in codingPath {
            if let index = key.intValue { text += "[\(index)]" } else { text += ".\(key.stringValue)" }
        }
        return text
    }
    switch error {
    case .dataCorrupted(let context):
        return "\(path(context.codingPath)): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        return "\(path(context.codingPath + [key])): required key is missing"
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)): expected \(describe(type))"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)): expected \(describe(type)), found nothing"
    @unknown default:
        return "\(root): \(error)"
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: return "a string"
    case is Int.Type, is Int64.Type: return "an integer"
    case is Double.Type: return "a number"
    case is Bool.Type: return "true or false"
    default:
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "a list" }
        if name.hasPrefix("Dictionary") { return "a mapping" }
        return "a mapping (\(name))"
    }
}
