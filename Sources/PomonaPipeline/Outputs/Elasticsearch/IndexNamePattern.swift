/// An index name with date fields: `osquery-%Y.%m.%d` → `osquery-2026.05.18` for the event's UTC
/// date. `%Y %m %d %H` are supported, `%%` is a percent sign; anything else is refused at start-up.
struct IndexNamePattern: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case text(String)
        case year, month, day, hour
    }

    let parts: [Part]
    let isConstant: Bool

    init(_ pattern: String) throws(PatternError) {
        var parts: [Part] = []
        var text = ""
        var iterator = pattern.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                text.append(character)
                continue
            }
            let field: Part
            switch iterator.next() {
            case "Y": field = .year
            case "m": field = .month
            case "d": field = .day
            case "H": field = .hour
            case "%":
                text.append("%")
                continue
            case let other?: throw PatternError(message: "unsupported field %\(other) (use %Y %m %d %H or %%)")
            case nil: throw PatternError(message: "ends with a lone %")
            }
            if !text.isEmpty { parts.append(.text(text)) }
            text = ""
            parts.append(field)
        }
        if !text.isEmpty { parts.append(.text(text)) }
        if parts.isEmpty { throw PatternError(message: "must not be empty") }
        // Elasticsearch index names: lowercase, no \ / * ? " < > | space , #, not starting with - _ +.
        let literal = parts.compactMap { if case .text(let t) = $0 { t } else { nil } }.joined()
        if literal != literal.lowercased() { throw PatternError(message: "index names must be lowercase") }
        if let bad = literal.first(where: { "\\/*?\"<>| ,#:".contains($0) }) {
            throw PatternError(message: "index names cannot contain \"\(bad)\"")
        }
        if case .text(let first)? = parts.first, let c = first.first, "-_+".contains(c) {
            throw PatternError(message: "index names cannot start with \(c)")
        }
        self.parts = parts
        isConstant = parts.allSatisfy { if case .text = $0 { true } else { false } }
    }

    struct PatternError: Error {
        let message: String
    }

    func name(at time: Double) -> String {
        if isConstant, case .text(let text)? = parts.first { return text }
        let date = UTCDateFields(epochSeconds: time)
        var name = ""
        for part in parts {
            switch part {
            case .text(let text): name += text
            case .year: name += UTCDateFields.pad(date.year, 4)
            case .month: name += UTCDateFields.pad(date.month, 2)
            case .day: name += UTCDateFields.pad(date.day, 2)
            case .hour: name += UTCDateFields.pad(date.hour, 2)
            }
        }
        return name
    }
}
