import Foundation
import PomonaCore

/// How `get` prints: a table for people, JSON lines or YAML documents for programs.
enum OutputFormat: Sendable {
    case table, json, yaml
}

/// Aligned text tables: a header row in capitals, columns two spaces apart, long cells cut with "…"
/// and line breaks shown as spaces (SQL), so each record stays on one line for grep and awk.
struct TextTable: Sendable {
    var headers: [String]
    var rows: [[String]]
    /// Cells longer than this are cut.
    var maxCellWidth = 60

    init(headers: [String], rows: [[String]] = [], maxCellWidth: Int = 60) {
        self.headers = headers
        self.rows = rows
        self.maxCellWidth = maxCellWidth
    }

    func cell(_ text: String) -> String {
        let flat = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" }).joined(separator: " ")
        guard flat.count > maxCellWidth else { return flat }
        return String(flat.prefix(maxCellWidth - 1)) + "…"
    }

    var rendered: String {
        let header = headers.map { $0.uppercased() }
        let body = rows.map { row in (0..<headers.count).map { $0 < row.count ? cell(row[$0]) : "" } }
        var widths = header.map(\.count)
        for row in body {
            for (column, text) in row.enumerated() { widths[column] = max(widths[column], text.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, value) in cells.enumerated() {
                if column == cells.count - 1 {
                    text += value
                } else {
                    text += value + String(repeating: " ", count: widths[column] - value.count + 2)
                }
            }
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        return ([line(header)] + body.map(line)).joined(separator: "\n") + "\n"
    }
}

/// A record's fields as text for table cells.
enum CellText {
    static func of(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .number(let text)?: return text
        case .bool(let flag)?: return flag ? "yes" : "no"
        case .array(let items)?: return items.map { of($0) }.joined(separator: ",")
        case .object?: return String(decoding: value!.encoded(), as: UTF8.self)
        }
    }

    /// "2026-11-30T00:12:00Z" → "2026-11-30 00:12:00" (tables are read by people).
    static func time(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue, text.count >= 19 else { return of(value) }
        var trimmed = String(text.prefix(19))
        if trimmed.hasPrefix("0001-01-01") { return "never" }
        trimmed = trimmed.replacingOccurrences(of: "T", with: " ")
        return trimmed
    }
}

/// A key/value listing for one record (`get host`): nested objects flattened to dotted keys.
enum KeyValueListing {
    static func render(_ value: JSONValue, skipping: Set<String> = []) -> String {
        var lines: [(String, String)] = []
        flatten(value, prefix: "", skipping: skipping, into: &lines)
        let width = lines.map(\.0.count).max() ?? 0
        return lines.map { key, text in key + ":" + String(repeating: " ", count: width - key.count + 1) + text }.joined(separator: "\n") + "\n"
    }

    static func flatten(_ value: JSONValue, prefix: String, skipping: Set<String>, into lines: inout [(String, String)]) {
        switch value {
        case .object(let members):
            for (key, member) in members where !skipping.contains(key) {
                flatten(member, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", skipping: [], into: &lines)
            }
        case .array(let items) where items.contains(where: { $0.objectMembers != nil }):
            lines.append((prefix, "\(items.count) item\(items.count == 1 ? "" : "s")"))
        default:
            lines.append((prefix, CellText.of(value)))
        }
    }
}
