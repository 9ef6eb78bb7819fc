/// Builds Prometheus text exposition (format 0.0.4) for the metrics Pomona renders itself.
///
/// Label values are escaped as the format requires (backslash, quote, newline); names are fixed
/// in code. Each family gets its `# HELP`/`# TYPE` once, before its samples.
struct PrometheusText {
    private(set) var text = ""
    private var declared: Set<String> = []

    enum Kind: String {
        case counter, gauge, histogram
    }

    mutating func declare(_ name: String, _ kind: Kind, _ help: String) {
        guard declared.insert(name).inserted else { return }
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        declare(name, .gauge, help)
        sample(name, labels, value)
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        declare(name, .counter, help)
        sample(name, labels, value)
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Integers without a fraction (`12`, not `12.0`); Prometheus parses either.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
