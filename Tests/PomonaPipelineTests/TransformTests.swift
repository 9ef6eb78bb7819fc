import PomonaCore
import Testing
import Yams

@testable import PomonaPipeline

@Suite("Transform stage")
struct TransformTests {
    func run(_ yaml: String, _ body: String) throws -> String {
        let stage = try decode(TransformStage.self, yaml)
        var event = draft(body)
        stage.apply(&event)
        return text(event.body)
    }

    @Test("flatten lifts columns and decorations with the default prefixes")
    func flattenDefault() throws {
        let out = try run("{type: transform, flatten: [columns, decorations]}", resultLine())
        #expect(try json(out) == json(#"{"name":"pack_it_processes","hostIdentifier":"web-01","calendarTime":"Tue Aug  4 12:00:01 2026 UTC","unixTime":1785844801,"epoch":0,"counter":3,"numerics":false,"decorations_host_uuid":"4C4C","decorations_hostname":"web-01.example.com","columns_name":"sshd","columns_pid":"812","action":"added"}"#))
        // Order kept: lifted keys sit where the object was.
        #expect(out.hasPrefix(#"{"name":"pack_it_processes","hostIdentifier":"web-01""#))
        #expect(out.hasSuffix(#""columns_name":"sshd","columns_pid":"812","action":"added"}"#))
    }

    @Test("flatten with an empty prefix replaces top-level members of the same name")
    func flattenNoPrefix() throws {
        let out = try run(#"{type: transform, flatten: [{field: columns, prefix: ""}]}"#, resultLine())
        let value = try json(out)
        #expect(value["name"] == .string("sshd"))
        #expect(value["pid"] == .string("812"))
        #expect(value["columns"] == nil)
        #expect(value.objectMembers?.filter { $0.0 == "name" }.count == 1)
    }

    @Test("flatten leaves events without the object alone, and handles empty objects")
    func flattenAbsent() throws {
        #expect(try run("{type: transform, flatten: [columns]}", #"{"a":1}"#) == #"{"a":1}"#)
        #expect(try run("{type: transform, flatten: [columns]}", #"{"columns":"x"}"#) == #"{"columns":"x"}"#)
        #expect(try run("{type: transform, flatten: [columns]}", #"{"a":1,"columns":{}}"#) == #"{"a":1}"#)
    }

    @Test("flatten of a nested object lifts into its parent")
    func flattenNested() throws {
        let out = try run("{type: transform, flatten: [{field: columns.obj, prefix: 'o_'}]}", #"{"columns":{"a":"1","obj":{"x":2,"y":"z"}}}"#)
        #expect(try json(out) == json(#"{"columns":{"a":"1","o_x":2,"o_y":"z"}}"#))
    }

    @Test("rename top-level and nested keys; an existing target is replaced")
    func rename() throws {
        let out = try run("{type: transform, rename: {hostIdentifier: host_identifier, columns.pid: process_id, epoch: counter}}", resultLine())
        let value = try json(out)
        #expect(value["host_identifier"] == .string("web-01"))
        #expect(value["hostIdentifier"] == nil)
        #expect(value["columns"]?["process_id"] == .string("812"))
        #expect(value["counter"] == .number("0"))
        #expect(value["epoch"] == nil)
    }

    @Test("remove fields, top-level and nested, first, middle and last")
    func remove() throws {
        #expect(try run("{type: transform, remove: [a]}", #"{"a":1,"b":2}"#) == #"{"b":2}"#)
        #expect(try run("{type: transform, remove: [b]}", #"{"a":1,"b":2}"#) == #"{"a":1}"#)
        #expect(try run("{type: transform, remove: [b]}", #"{"a":1,"b":2,"c":3}"#) == #"{"a":1,"c":3}"#)
        #expect(try run("{type: transform, remove: [a]}", #"{"a":1}"#) == #"{}"#)
        #expect(try run("{type: transform, remove: [c.x, missing]}", #"{"c":{"x":1,"y":2}}"#) == #"{"c":{"y":2}}"#)
        #expect(try run("{type: transform, remove: a}", #"{"a":1,"a":2,"b":3}"#) == #"{"b":3}"#)
    }

    @Test("mask secrets in shell_history command lines")
    func mask() throws {
        let yaml = #"""
            type: transform
            mask:
              - fields: [columns.command]
                regex: '(-p|--password[= ]|Bearer )\S+'
                replace: '$1***'
              - field: columns.other
                regex: 'secret'
            """#
        let body = resultLine(columns: #"{"command":"mysql -u root -pS3cr3t -h db && curl -H 'Authorization: Bearer abc.def'","other":"my secret \"x\"","uid":"501"}"#)
        let value = try json(try run(yaml, body))
        #expect(value["columns"]?["command"] == .string("mysql -u root -p*** -h db && curl -H 'Authorization: Bearer ***"))
        #expect(value["columns"]?["other"] == .string("my *** \"x\""))
        #expect(value["columns"]?["uid"] == .string("501"))
        // No match → untouched bytes.
        #expect(try run(yaml, resultLine()) == resultLine())
    }

    @Test("mask, then flatten, then rename, then remove")
    func order() throws {
        let yaml = "{type: transform, mask: [{fields: columns.name, regex: sshd}], flatten: [columns], rename: {columns_name: process}, remove: [columns_pid, decorations, epoch]}"
        let value = try json(try run(yaml, resultLine()))
        #expect(value["process"] == .string("***"))
        #expect(value["columns_pid"] == nil)
        #expect(value["decorations"] == nil)
        #expect(value["epoch"] == nil)
        #expect(value["name"] == .string("pack_it_processes"))
    }

    @Test("configuration errors name the key")
    func errors() {
        #expect(configurationError(TransformStage.self, "{type: transform}")?.contains("at least one of mask") == true)
        #expect(configurationError(TransformStage.self, "{type: transform, flaten: [columns]}")?.contains("unknown key \"flaten\"") == true)
        #expect(configurationError(TransformStage.self, "{type: transform, rename: {a: b.c}}")?.contains("pipeline.rename:") == true)
        #expect(configurationError(TransformStage.self, "{type: transform, mask: [{fields: a, regex: '['}]}")?
            .contains("pipeline.mask[0].regex:") == true)
        #expect(configurationError(TransformStage.self, "{type: transform, mask: [{regex: a}]}")?.contains("needs \"fields\"") == true)
        #expect(configurationError(TransformStage.self, "{type: transform, remove: ['a..b']}")?.contains("pipeline.remove:") == true)
    }
}
