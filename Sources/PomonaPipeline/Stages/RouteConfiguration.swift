/// `pipeline.routes`: which events go through which stages to which outputs.
///
/// ```yaml
/// pipeline:
///   routes:
///     - name: osquery-results
///       match:
///         sourcetypes: ["osquery:result"]          # exact, or a prefix ending in * ("collector:*")
///         when: { not: { field: name, prefix: "pack_debug_" } }
///       stages:
///         - { type: filter, when: { field: name, equals: pack_it_noisy } }
///         - { type: throttle, key: [hostIdentifier, name], default_limit: 5000 }
///         - { type: enrich }
///       outputs:
///         - splunk                                   # an output name …
///         - { name: elastic, sourcetype: "osquery:result:flat" }   # … or with a sourcetype for this route
/// ```
///
/// Every route whose `match` holds processes the event, independently (its own copy, its own
/// stages, its own throttle counters); each output receives the event at most once per route.
/// An event no route matches is counted as unrouted for every output.
public struct RouteConfiguration: Sendable {
    public struct Match: Sendable {
        /// Empty = every sourcetype.
        public var sourcetypes: [String]
        /// Empty = every input.
        public var inputs: [String]
        public var condition: Condition?

        public init(sourcetypes: [String] = [], inputs: [String] = [], condition: Condition? = nil) {
            self.sourcetypes = sourcetypes
            self.inputs = inputs
            self.condition = condition
        }

        /// Whether `event` enters the route.
        public func matches(_ event: inout EventDraft) -> Bool {
            if !sourcetypes.isEmpty, !sourcetypes.contains(where: { Self.glob($0, event.sourcetype) }) { return false }
            if !inputs.isEmpty, !inputs.contains(event.input) { return false }
            return condition?.matches(&event) ?? true
        }

        static func glob(_ pattern: String, _ value: String) -> Bool {
            pattern.hasSuffix("*") ? value.hasPrefix(pattern.dropLast()) : pattern == value
        }
    }

    /// One output of a route, with what the route changes for it.
    ///
    /// There is no per-route index: outputs choose the index by sourcetype (their `indexes`
    /// mapping), so a route that should land in another logical store gives its events their own
    /// `sourcetype` here and the output maps that sourcetype to the index.
    public struct Output: Sendable, Equatable {
        public var name: String
        /// Replaces the event's sourcetype for this output.
        public var sourcetype: String?

        public init(name: String, sourcetype: String? = nil) {
            self.name = name
            self.sourcetype = sourcetype
        }
    }

    public var name: String
    public var match: Match
    public var stages: [StageConfiguration]
    public var outputs: [Output]

    public init(name: String, match: Match = Match(), stages: [StageConfiguration] = [], outputs: [Output]) {
        self.name = name
        self.match = match
        self.stages = stages
        self.outputs = outputs
        for index in self.stages.indices { self.stages[index].setDefaultName(position: index + 1) }
    }

    /// Checks a list of routes against the configured output names; the message names the key.
    public static func validate(_ routes: [RouteConfiguration], outputNames: Set<String>) throws(RouteConfigurationError) {
        var seen: Set<String> = []
        for (r, route) in routes.enumerated() {
            guard seen.insert(route.name).inserted else {
                throw RouteConfigurationError("pipeline.routes[\(r)].name: route name \"\(route.name)\" is used twice")
            }
            for (o, output) in route.outputs.enumerated() where !outputNames.contains(output.name) {
                throw RouteConfigurationError(
                    "pipeline.routes[\(r)].outputs[\(o)]: no output is named \"\(output.name)\" (configured: \(outputNames.sorted().joined(separator: ", ")))")
            }
        }
    }
}

public struct RouteConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension RouteConfiguration: Decodable {
    enum Keys: String, CodingKey { case name, match, stages, outputs }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["name", "match", "stages", "outputs"])
        let c = try decoder.container(keyedBy: Keys.self)
        guard c.contains(.name) else { throw decoder.configError("a route needs \"name\"") }
        let name = try c.decode(String.self, forKey: .name)
        guard !name.isEmpty else { throw c.configError(.name, "must not be empty") }
        let match = try c.decodeIfPresent(Match.self, forKey: .match) ?? Match()
        let stages = try c.decodeIfPresent([StageConfiguration].self, forKey: .stages) ?? []
        guard c.contains(.outputs) else { throw decoder.configError("a route needs \"outputs\": where its events go") }
        let outputs = try c.decode([Output].self, forKey: .outputs)
        guard !outputs.isEmpty else { throw c.configError(.outputs, "must list at least one output") }
        let names = outputs.map(\.name)
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw c.configError(.outputs, "output \"\(twice)\" is listed twice in one route")
        }
        let stageNames = stages.enumerated().map { $1.name.isEmpty ? "\($1.type)\($0 + 1)" : $1.name }
        if let twice = stageNames.first(where: { n in stageNames.filter { $0 == n }.count > 1 }) {
            throw c.configError(.stages, "stage name \"\(twice)\" is used twice in one route")
        }
        self.init(name: name, match: match, stages: stages, outputs: outputs)
    }
}

extension RouteConfiguration.Match: Decodable {
    enum Keys: String, CodingKey { case sourcetypes, sourcetype, inputs, input, when }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["sourcetypes", "sourcetype", "inputs", "input", "when"])
        let c = try decoder.container(keyedBy: Keys.self)
        sourcetypes = (try c.decodeIfPresent(OneOrMany<String>.self, forKey: .sourcetypes)?.values ?? [])
            + (try c.decodeIfPresent(OneOrMany<String>.self, forKey: .sourcetype)?.values ?? [])
        inputs = (try c.decodeIfPresent(OneOrMany<String>.self, forKey: .inputs)?.values ?? [])
            + (try c.decodeIfPresent(OneOrMany<String>.self, forKey: .input)?.values ?? [])
        condition = try c.decodeIfPresent(Condition.self, forKey: .when)
    }
}

extension RouteConfiguration.Output: Decodable {
    enum Keys: String, CodingKey { case name, index, sourcetype }

    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            self.init(name: name)
            return
        }
        try decoder.rejectUnknownKeys(["name", "sourcetype", "index"])
        let c = try decoder.container(keyedBy: Keys.self)
        if c.contains(.index) {
            throw c.configError(.index, "outputs choose the index by sourcetype: give this route's events a \"sourcetype\" here and map it in the output's \"indexes\"")
        }
        guard c.contains(.name) else { throw decoder.configError("a route output needs \"name\": the output it sends to") }
        let sourcetype = try c.decodeIfPresent(String.self, forKey: .sourcetype)
        if let sourcetype, sourcetype.isEmpty { throw c.configError(.sourcetype, "must not be empty") }
        self.init(name: try c.decode(String.self, forKey: .name), sourcetype: sourcetype)
    }
}
