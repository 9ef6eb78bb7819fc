import Foundation

/// Finds where the first SQL statement of a text ends, the way SQLite's tokenizer would.
///
/// GRDB's statement cursor stops at the first empty statement (`SELECT 1; ; SELECT 2` yields only
/// `SELECT 1`), so it cannot tell "one statement and some stray semicolons" from "two statements".
/// This splitter skips `;` inside string literals (`'…'`), quoted identifiers (`"…"`, `` `…` ``,
/// `[…]`) and comments (`-- …`, `/* … */`), and ignores pieces that hold only whitespace and
/// comments.
enum SQLStatementSplitter {
    struct Result: Equatable {
        /// The first statement that has more than whitespace and comments, without its `;`.
        var first: String?
        /// Everything from the start of the second such statement, trimmed; `nil` when there is none.
        var remainder: String?
    }

    static func split(_ sql: String) -> Result {
        let scalars = Array(sql.unicodeScalars)
        var result = Result()
        var pieceStart = 0
        var pieceHasContent = false
        var index = 0

        /// Ends the current piece at `end` (exclusive). Returns true when splitting is done.
        func closePiece(at end: Int) -> Bool {
            defer {
                pieceStart = end + 1
                pieceHasContent = false
            }
            guard pieceHasContent else { return false }
            if result.first == nil {
                result.first = String(String.UnicodeScalarView(scalars[pieceStart..<end]))
                    .trimmingWhitespace()
                return false
            }
            result.remainder = String(String.UnicodeScalarView(scalars[pieceStart...]))
                .trimmingWhitespace()
            return true
        }

        while index < scalars.count {
            let scalar = scalars[index]
            let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
            switch scalar {
            case ";":
                if closePiece(at: index) { return result }
                index += 1
            case "-" where next == "-":
                // Line comment: up to the end of the line (or text).
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "/" where next == "*":
                // Block comment: up to `*/`; an unterminated one runs to the end, as in SQLite.
                index += 2
                while index < scalars.count, !(scalars[index] == "*" && index + 1 < scalars.count && scalars[index + 1] == "/") {
                    index += 1
                }
                index = min(index + 2, scalars.count)
            case "'", "\"", "`":
                // Quoted text: a doubled quote is an escaped quote; unterminated runs to the end.
                pieceHasContent = true
                index += 1
                while index < scalars.count {
                    if scalars[index] == scalar {
                        if index + 1 < scalars.count, scalars[index + 1] == scalar {
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
                index += 1
            case "[":
                pieceHasContent = true
                while index < scalars.count, scalars[index] != "]" { index += 1 }
                index += 1
            default:
                if !scalar.properties.isWhitespace { pieceHasContent = true }
                index += 1
            }
        }
        _ = closePiece(at: scalars.count)
        return result
    }
}

extension SQLStatementSplitter {
    /// The first keyword of a statement, upper-cased (`SELECT`, `WITH`, `PRAGMA`, …), skipping
    /// whitespace, comments and opening parentheses; `""` when the statement starts otherwise.
    static func leadingKeyword(_ sql: String) -> String {
        var rest = Substring(sql)
        while true {
            let trimmed = rest.drop { $0.isWhitespace || $0 == "(" }
            if trimmed.hasPrefix("--") {
                rest = trimmed.drop { $0 != "\n" }
            } else if trimmed.hasPrefix("/*") {
                guard let end = trimmed.range(of: "*/") else { return "" }
                rest = trimmed[end.upperBound...]
            } else {
                return String(trimmed.prefix { $0.isASCII && $0.isLetter }).uppercased()
            }
        }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let view = unicodeScalars
        guard let start = view.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = view.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(view[start...end])
    }
}
