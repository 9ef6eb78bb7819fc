/// What a distributed read handed the agent, after osqueryd's acceptance rules (spec §5.2).
public struct DistributedWork: Sendable, Equatable {
    /// Accepted queries, name → SQL, in the order they were read (they run in name order).
    public var queries: [(name: String, sql: String)]
    /// Discovery SQL by query name; a query with an entry runs only if its discovery returns rows.
    public var discovery: [String: String]
    /// `accelerate` seconds, only when it was a JSON integer.
    public var accelerate: Int64?
    /// Set when osqueryd would throw the whole response (or its tail) away, and why.
    public var rejection: String?

    public static func == (lhs: DistributedWork, rhs: DistributedWork) -> Bool {
        lhs.queries.map(\.name) == rhs.queries.map(\.name) && lhs.queries.map(\.sql) == rhs.queries.map(\.sql)
            && lhs.discovery == rhs.discovery && lhs.accelerate == rhs.accelerate && lhs.rejection == rhs.rejection
    }

    /// Applies `Distributed::acceptWork` to a read response.
    ///
    /// A discovery entry that is not a non-empty string rejects everything. A bad query entry stops
    /// processing there; entries before it stay. A non-object `queries`/`discovery` is ignored, and
    /// `accelerate` counts only as a 32-bit JSON integer (`IsInt`).
    public init(response: JSONObject) {
        queries = []
        discovery = [:]
        accelerate = nil
        rejection = nil
        if case .object(let discoveryObject)? = response["discovery"] {
            for member in discoveryObject {
                guard let sql = member.value.stringValue, !sql.isEmpty, !member.key.isEmpty else {
                    rejection = "invalid discovery entry \(member.key)"
                    discovery = [:]
                    return
                }
                if discovery[member.key] == nil { discovery[member.key] = sql }
            }
        }
        if case .object(let queryObject)? = response["queries"] {
            for member in queryObject {
                guard let sql = member.value.stringValue, !sql.isEmpty, !member.key.isEmpty else {
                    rejection = "invalid query entry \(member.key)"
                    break
                }
                // Stored by name: a repeated name overwrites the earlier SQL.
                if let index = queries.firstIndex(where: { $0.name == member.key }) {
                    queries[index].sql = sql
                } else {
                    queries.append((member.key, sql))
                }
            }
        }
        if let value = response["accelerate"]?.integerValue, value >= Int64(Int32.min), value <= Int64(Int32.max) {
            accelerate = value
        }
    }

    /// Empty work.
    public init() {
        queries = []
        discovery = [:]
        accelerate = nil
        rejection = nil
    }
}
