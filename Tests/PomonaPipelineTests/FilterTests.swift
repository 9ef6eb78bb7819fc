import Testing
import Yams

@testable import PomonaPipeline

@Suite("Filter stage and conditions")
struct FilterTests {
    func condition(_ yaml: String) throws -> Condition { try decode(Condition.self, yaml) }

    func matches(_ yaml: String, _ body: String = resultLine(), sourcetype: String = "osquery:result") throws -> Bool {
        var event = draft(body, sourcetype: sourcetype)
        return try condition(yaml).matches(&event)
    }

    @Test("equals, on strings and numbers written either way")
    func equals() throws {
        #expect(try matches("{field: name, equals: pack_it_processes}"))
        #expect(try !matches("{field: name, equals: pack_it}"))
        #expect(try matches("{field: unixTime, equals: 1785844801}"))
        #expect(try matches("{field: columns.pid, equals: 812}"))
        #expect(try matches("{field: numerics, equals: false}"))
        #expect(try !matches("{field: missing, equals: x}"))
        #expect(try matches("{field: '@sourcetype', equals: 'osquery:result'}"))
        #expect(try matches(#"{field: a, equals: "x\"y"}"#, #"{"a":"x\"y"}"#))
    }

    @Test("prefix")
    func prefix() throws {
        #expect(try matches("{field: name, prefix: pack_it_}"))
        #expect(try !matches("{field: name, prefix: pack_inventory_}"))
        #expect(try matches("{field: decorations.hostname, prefix: web-}"))
        #expect(try !matches("{field: name, prefix: pack_it_processes_and_more}"))
        #expect(try matches("{field: '@sourcetype', prefix: 'osquery:'}"))
    }

    @Test("regex matches anywhere unless anchored")
    func regex() throws {
        #expect(try matches(#"{field: columns.name, regex: "ss"}"#))
        #expect(try !matches(#"{field: columns.name, regex: "^ss$"}"#))
        #expect(try matches(#"{field: hostIdentifier, regex: "^web-[0-9]+$"}"#))
    }

    @Test("in a list")
    func inList() throws {
        #expect(try matches("{field: name, in: [a, pack_it_processes]}"))
        #expect(try !matches("{field: name, in: [a, b]}"))
        #expect(try matches("{field: columns.pid, in: [1, 812]}"))
    }

    @Test("exists")
    func exists() throws {
        #expect(try matches("{field: columns.pid, exists: true}"))
        #expect(try matches("{field: columns.uid, exists: false}"))
    }

    @Test("not, all, any")
    func combinations() throws {
        #expect(try matches("{not: {field: name, equals: x}}"))
        #expect(try matches("{all: [{field: name, prefix: pack_}, {field: hostIdentifier, equals: web-01}]}"))
        #expect(try !matches("{all: [{field: name, prefix: pack_}, {field: hostIdentifier, equals: web-02}]}"))
        #expect(try matches("{any: [{field: name, equals: x}, {field: hostIdentifier, equals: web-01}]}"))
        #expect(try !matches("{any: [{field: name, equals: x}, {not: {field: hostIdentifier, equals: web-01}}]}"))
    }

    @Test("discard drops matches, keep drops the rest")
    func actions() throws {
        let discard = try decode(FilterStage.self, "{type: filter, when: {field: name, equals: pack_it_processes}}")
        let keep = try decode(FilterStage.self, "{type: filter, action: keep, when: {field: name, equals: pack_it_processes}}")
        var matching = draft(resultLine())
        var other = draft(resultLine(name: "other"))
        #expect(discard.drops(&matching))
        #expect(!discard.drops(&other))
        #expect(!keep.drops(&matching))
        #expect(keep.drops(&other))
    }

    @Test("configuration errors name the key", arguments: [
        ("{field: name}", "exactly one of"),
        ("{field: name, equals: a, prefix: b}", "found equals, prefix"),
        ("{equals: a}", "needs \"field\""),
        ("{field: name, regex: '('}", "regex: \"(\" is not a valid regular expression"),
        ("{field: name, equals: a, typo: 1}", "unknown key \"typo\""),
        ("{field: '', equals: a}", "pipeline.field: invalid field path"),
        ("{field: name, not: {field: a, equals: b}}", "\"field\" does not go with \"not\""),
        ("{all: []}", "pipeline.all: must list at least one condition"),
        ("{all: [{field: a, equls: b}]}", "pipeline.all[0].equls: unknown key"),
        ("{field: name, in: []}", "pipeline.in: must list at least one value"),
    ])
    func errors(yaml: String, message: String) {
        let error = configurationError(Condition.self, yaml)
        #expect(error?.contains(message) == true, "\(error ?? "no error")")
    }

    @Test("a filter needs a condition and a known action")
    func filterErrors() {
        #expect(configurationError(FilterStage.self, "{type: filter}")?.contains("needs \"when\"") == true)
        #expect(configurationError(FilterStage.self, "{type: filter, action: drop, when: {field: a, equals: b}}")?
            .contains("pipeline.action: \"drop\" is not an action") == true)
    }
}
