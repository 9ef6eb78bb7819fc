/// Why an osquery pack file could not be imported.
///
/// The message names the pack or query and the field, so an admin can fix the file:
///
/// ```text
/// pack "it-compliance": not valid JSON: …
/// query "x": interval "abc" is not a number
/// query "x": interval 0 is out of range (1…604800)
/// ```
public struct OsqueryPackImportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The query the problem is in, or `nil` for pack-level problems.
    public let queryName: String?
    /// The JSON field at fault (`interval`, `queries`, …), when there is one.
    public let field: String?
    /// The complete, human-readable explanation.
    public let message: String

    public init(queryName: String?, field: String?, message: String) {
        self.queryName = queryName
        self.field = field
        self.message = message
    }

    public var description: String { message }

    /// A problem with the pack as a whole.
    static func pack(_ packName: String, field: String? = nil, _ problem: String) -> OsqueryPackImportError {
        OsqueryPackImportError(queryName: nil, field: field, message: "pack \"\(packName)\": \(problem)")
    }

    /// A problem with one query's field.
    static func query(_ queryName: String, field: String?, _ problem: String) -> OsqueryPackImportError {
        OsqueryPackImportError(queryName: queryName, field: field, message: "query \"\(queryName)\": \(problem)")
    }
}
