import Foundation
import GRDB

/// Stand-ins for the SQL functions and collations osquery adds to its SQLite connections.
///
/// Only names and argument counts matter: the schema checker prepares statements and never runs
/// them, and SQLite checks a function's name and arity at prepare time (`no such function: x`,
/// `wrong number of arguments to function x()`). Every stub returns NULL.
///
/// The list follows osquery's `osquery/sql/sqlite_*.cpp` registration functions
/// (`registerMathExtensions`, `registerStringExtensions`, …, called from `openOptimized` in
/// `sqlite_util.cpp`), plus `soundex`, which osquery's SQLite is compiled with
/// (`SQLITE_SOUNDEX`). An arity of `nil` means "any number of arguments" (osquery's `-1`).
enum OsquerySQLExtensions {
    /// Scalar functions: name and argument count.
    static let scalarFunctions: [(name: String, argumentCount: Int?)] = [
        // sqlite_version.cpp
        ("version_compare", nil),
        // sqlite_math.cpp
        ("sqrt", 1), ("acos", 1), ("asin", 1), ("atan", 1), ("cos", 1), ("sin", 1), ("tan", 1), ("cot", 1),
        ("exp", 1), ("log", 1), ("log10", 1), ("power", 2), ("ceil", 1), ("floor", 1), ("degrees", 1),
        ("radians", 1), ("pi", 0),
        // sqlite_string.cpp
        ("split", 3), ("regex_split", 3), ("inet_aton", 1), ("regex_match", 3), ("concat", nil), ("concat_ws", nil),
        // sqlite_operations.cpp (carve is an aggregate, below)
        ("sleep", 1),
        // sqlite_filesystem.cpp
        ("is_path_deterministic", nil), ("find_file_path_in_cmd", nil), ("parent_directory", 1),
        // sqlite_hashing.cpp
        ("md5", 1), ("sha1", 1), ("sha256", 1),
        ("community_id_v1", 5), ("community_id_v1", 6), ("community_id_v1_strict", 5), ("community_id_v1_strict", 6),
        // sqlite_encoding.cpp
        ("conditional_to_base64", 1), ("to_base64", 1), ("from_base64", 1),
        // sqlite_network.cpp
        ("in_cidr_block", 2),
        // SQLITE_SOUNDEX compile option
        ("soundex", 1),
    ]

    /// Aggregate functions: name and argument count.
    static let aggregateFunctions: [(name: String, argumentCount: Int?)] = [
        // sqlite_operations.cpp: `SELECT carve(path) FROM file WHERE …` starts a file carve.
        ("carve", 1)
    ]

    /// Collations from `registerVersionExtensions` (`ORDER BY version COLLATE version_dpkg`).
    static let collations = ["version", "version_arch", "version_dpkg", "version_rhel"]

    /// Registers every stub on a connection.
    static func register(in db: Database) {
        for function in scalarFunctions {
            db.add(function: DatabaseFunction(function.name, argumentCount: function.argumentCount, pure: true) { _ in nil })
        }
        for function in aggregateFunctions {
            db.add(function: DatabaseFunction(function.name, argumentCount: function.argumentCount, aggregate: NullAggregate.self))
        }
        for name in collations {
            db.add(collation: DatabaseCollation(name) { lhs, rhs in lhs < rhs ? .orderedAscending : lhs == rhs ? .orderedSame : .orderedDescending })
        }
    }

    /// An aggregate that accepts anything and returns NULL.
    private struct NullAggregate: DatabaseAggregate {
        init() {}
        mutating func step(_ dbValues: [DatabaseValue]) {}
        func finalize() -> (any DatabaseValueConvertible)? { nil }
    }
}
