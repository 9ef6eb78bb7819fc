/// The outcome of running one distributed query on a simulated host (spec §5.3).
public struct QueryAnswer: Sendable, Equatable {
    /// Result rows; every value a string, as distributed writes always send them.
    public var rows: [[String: String]]
    /// 0 on success; osqueryd sends 1 for every failure.
    public var status: Int64
    /// `""` on success, the SQLite error text otherwise.
    public var message: String

    /// A successful answer.
    public static func rows(_ rows: [[String: String]]) -> QueryAnswer {
        QueryAnswer(rows: rows, status: 0, message: "")
    }

    /// A failed answer: no rows, status 1.
    public static func failure(_ message: String) -> QueryAnswer {
        QueryAnswer(rows: [], status: 1, message: message)
    }

    /// Creates an answer.
    public init(rows: [[String: String]], status: Int64, message: String) {
        self.rows = rows
        self.status = status
        self.message = message
    }
}
