import Foundation

/// A JSON value as osqueryd sees it: objects keep member order and duplicate keys.
///
/// The simulator cannot use `[String: Any]` for two reasons. It must be `Sendable` so results can
/// cross actors, and it must keep the quirks that decide how osqueryd judges a response: lookups use
/// the **first** occurrence of a duplicate key (RapidJSON's `FindMember`), booleans are never
/// numbers (`"node_invalid": 1` is not `true`), and requests are written in a fixed member order.
///
/// ```swift
/// let body: JSONValue = ["node_key": "k1", "log_type": "result", "data": []]
/// body.compactData()   // {"node_key":"k1","log_type":"result","data":[]}
/// ```
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The object payload, or `nil` for every other kind of value.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The string payload, or `nil` for every other kind of value (no coercion).
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The array payload, or `nil` for every other kind of value.
    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    /// The integer payload, or `nil` for every other kind of value (no coercion from doubles or strings).
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// Looks up a member of an object value (first occurrence); `nil` for non-objects.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

/// A JSON object whose members keep their order, duplicates included.
public struct JSONObject: Sendable, Equatable, Sequence {
    /// The members in document order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// Creates an object from members in the given order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The first member with that key, as RapidJSON's `FindMember` returns it.
    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            // Replacing keeps the member's position; osqueryd's `node_key` replacement does the same
            // for an existing member and appends otherwise.
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// The keys in document order.
    public var keys: [String] { members.map(\.key) }

    /// The number of members, duplicates included.
    public var count: Int { members.count }

    /// Whether a member with that key exists.
    public func contains(_ key: String) -> Bool { members.contains(where: { $0.key == key }) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
    public init(floatLiteral value: Double) { self = .double(value) }
}
