import Foundation

/// The osquery tables and columns Pomona knows about, per platform.
///
/// The facts come from `osquery-tables.json`, a digest of osquery's table specs (names, platforms,
/// column names and types, hidden/required flags). They are what the query validator checks SQL
/// against, so an admin learns about a misspelt table before thousands of agents report
/// `no such table` every interval.
///
/// ```swift
/// let catalog = OsqueryTableCatalog.shared
/// catalog.table(named: "apps")?.platforms          // [.darwin]
/// catalog.table(named: "processes")?.column(named: "pid")?.type   // .bigint
/// catalog.tables(on: .windows).count
/// ```
///
/// The catalog is an immutable value: decode it once and share it freely between tasks.
public struct OsqueryTableCatalog: Sendable {
    /// Where the facts were taken from (the `source` field of the JSON).
    public let source: String
    /// Every table, sorted by name.
    public let tables: [Table]
    /// Index into `tables` by lower-cased name (SQLite table names are case-insensitive).
    private let indexByName: [String: Int]

    /// The catalog compiled into Pomona (from `osquery-tables.json`), decoded on first use.
    ///
    /// Corrupt embedded facts are a build error, not a runtime condition; they stop the process
    /// with a message. Use ``loadBundled()`` to handle it yourself.
    public static let shared: OsqueryTableCatalog = {
        do {
            return try loadBundled()
        } catch {
            fatalError("Cannot load the bundled osquery-tables.json: \(error)")
        }
    }()

    /// Decodes the catalog embedded in PomonaCore (``embeddedJSON``).
    ///
    /// - Throws: a decoding error.
    public static func loadBundled() throws -> OsqueryTableCatalog {
        try OsqueryTableCatalog(jsonData: Data(embeddedJSON.utf8))
    }

    /// Decodes a catalog in the `osquery-tables.json` format.
    ///
    /// Platform names other than `darwin`, `linux` and `windows` (such as `freebsd`) are ignored.
    /// - Throws: `DecodingError` when the JSON does not have the expected shape.
    public init(jsonData: Data) throws {
        let file = try JSONDecoder().decode(File.self, from: jsonData)
        self.init(source: file.source ?? "", tables: file.tables)
    }

    /// Builds a catalog from tables already in memory (tests, extensions' tables).
    public init(source: String = "", tables: [Table]) {
        self.source = source
        self.tables = tables.sorted { $0.name < $1.name }
        var index: [String: Int] = [:]
        for (offset, table) in self.tables.enumerated() {
            // Keep the first of duplicate names, like SQLite would refuse the second CREATE TABLE.
            if index[table.name.lowercased()] == nil { index[table.name.lowercased()] = offset }
        }
        self.indexByName = index
    }

    // MARK: - Lookups

    /// The table with this name, ignoring case (as SQLite does), or `nil`.
    public func table(named name: String) -> Table? {
        indexByName[name.lowercased()].map { tables[$0] }
    }

    /// Tables available on `platform`, sorted by name.
    public func tables(on platform: OsqueryPlatform) -> [Table] {
        tables.filter { $0.platforms.contains(platform) }
    }

    /// Tables available on at least one of `platforms`, sorted by name.
    public func tables(onAnyOf platforms: Set<OsqueryPlatform>) -> [Table] {
        tables.filter { !$0.platforms.isDisjoint(with: platforms) }
    }

    /// Whether the named table is fed by an event publisher (`process_events`, `file_events`, …).
    ///
    /// Evented tables return rows only when the agent runs with `--disable_events=false` and the
    /// publisher's own flags; see ``MacOSBaseline/requiredAgentOptions``.
    public func isEvented(_ tableName: String) -> Bool {
        table(named: tableName)?.isEvented ?? false
    }

    // MARK: - Types

    /// One osquery table.
    public struct Table: Sendable, Equatable, Decodable {
        public var name: String
        /// Platforms whose osquery build has this table.
        public var platforms: Set<OsqueryPlatform>
        /// Whether rows come from an event publisher rather than a live read.
        public var isEvented: Bool
        /// Columns in spec order, including hidden ones.
        public var columns: [Column]

        public init(name: String, platforms: Set<OsqueryPlatform>, isEvented: Bool = false, columns: [Column]) {
            self.name = name
            self.platforms = platforms
            self.isEvented = isEvented
            self.columns = columns
        }

        /// The column with this name, ignoring case, or `nil`.
        public func column(named name: String) -> Column? {
            let wanted = name.lowercased()
            return columns.first { $0.name.lowercased() == wanted }
        }

        /// Columns that `SELECT *` returns (hidden ones are left out by osquery).
        public var visibleColumns: [Column] { columns.filter { !$0.isHidden } }

        private enum CodingKeys: String, CodingKey {
            case name, platforms, evented, columns
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            let platformNames = try container.decodeIfPresent([String].self, forKey: .platforms) ?? []
            platforms = Set(platformNames.compactMap(OsqueryPlatform.init(rawValue:)))
            isEvented = try container.decodeIfPresent(Bool.self, forKey: .evented) ?? false
            columns = try container.decodeIfPresent([Column].self, forKey: .columns) ?? []
        }
    }

    /// One column of an osquery table.
    public struct Column: Sendable, Equatable, Decodable {
        public var name: String
        public var type: ColumnType
        /// Hidden columns are left out of `SELECT *` but can be selected and filtered by name.
        public var isHidden: Bool
        /// The table needs a constraint on this column (`WHERE path = …`) to produce rows.
        public var isRequired: Bool
        /// The column is (part of) the table's index.
        public var isIndex: Bool
        /// A constraint on this column makes the table generate more rows (`additional`).
        public var isAdditional: Bool
        /// The table can use a constraint on this column to avoid work (`optimized`).
        public var isOptimized: Bool

        public init(
            name: String, type: ColumnType, isHidden: Bool = false, isRequired: Bool = false, isIndex: Bool = false,
            isAdditional: Bool = false, isOptimized: Bool = false
        ) {
            self.name = name
            self.type = type
            self.isHidden = isHidden
            self.isRequired = isRequired
            self.isIndex = isIndex
            self.isAdditional = isAdditional
            self.isOptimized = isOptimized
        }

        private enum CodingKeys: String, CodingKey {
            case name, type, hidden, required, index, additional, optimized
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            type = ColumnType(rawValue: try container.decodeIfPresent(String.self, forKey: .type) ?? "text")
            isHidden = try container.decodeIfPresent(Bool.self, forKey: .hidden) ?? false
            isRequired = try container.decodeIfPresent(Bool.self, forKey: .required) ?? false
            isIndex = try container.decodeIfPresent(Bool.self, forKey: .index) ?? false
            isAdditional = try container.decodeIfPresent(Bool.self, forKey: .additional) ?? false
            isOptimized = try container.decodeIfPresent(Bool.self, forKey: .optimized) ?? false
        }
    }

    /// An osquery column type, as written in the table specs (`text`, `bigint`, …).
    ///
    /// A struct rather than an enum so that a type added to osquery later still decodes.
    public struct ColumnType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue.lowercased() }

        public static let text = ColumnType(rawValue: "text")
        public static let integer = ColumnType(rawValue: "integer")
        public static let bigint = ColumnType(rawValue: "bigint")
        public static let unsignedBigint = ColumnType(rawValue: "unsigned_bigint")
        public static let double = ColumnType(rawValue: "double")
        public static let datetime = ColumnType(rawValue: "datetime")
        public static let blob = ColumnType(rawValue: "blob")

        /// The type name osquery declares in its virtual table schema (`UNSIGNED BIGINT`, …).
        ///
        /// Declaring the same names gives a stand-in table the same SQLite type affinity as the
        /// real virtual table.
        public var sqlDeclaration: String {
            rawValue.replacingOccurrences(of: "_", with: " ").uppercased()
        }

        public var description: String { rawValue }
    }

    /// The top level of `osquery-tables.json`.
    private struct File: Decodable {
        var source: String?
        var tables: [Table]
    }
}
