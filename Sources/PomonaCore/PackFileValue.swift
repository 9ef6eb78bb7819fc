import Foundation

/// Any JSON value, keeping the distinction between booleans, integers, other numbers and strings.
///
/// osquery's config fields accept several JSON types (`"interval": 3600` and `"interval": "3600"`),
/// and the meaning depends on the type, so the importer must see exactly what the file says.
/// `JSONSerialization` would hand back `NSNumber`s, in which `true` and `1` look alike on Linux.
enum PackFileValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A number that is not an integer in Int64's range (`1.5`, `1e30`).
    case number(Double)
    case string(String)
    case array([PackFileValue])
    case object([String: PackFileValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Order matters: Bool before numbers (a JSON `true` must not become 1), integers before
        // doubles (so 3600 stays exact).
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([PackFileValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: PackFileValue].self))
        }
    }

    /// How the value reads in an error message: strings quoted, others as JSON.
    var quoted: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .string(let value): "\"\(value)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
