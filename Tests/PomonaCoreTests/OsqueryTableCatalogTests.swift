import Foundation
import PomonaCore
import Testing

@Suite("OsqueryTableCatalog")
struct OsqueryTableCatalogTests {
    let catalog = OsqueryTableCatalog.shared

    @Test func bundledCatalogLoads() {
        #expect(catalog.tables.count == 284)
        #expect(!catalog.source.isEmpty)
        #expect(catalog.tables.map(\.name) == catalog.tables.map(\.name).sorted())
    }

    @Test func lookupIgnoresCase() throws {
        let apps = try #require(catalog.table(named: "APPS"))
        #expect(apps.name == "apps")
        #expect(apps.platforms == [.darwin])
        #expect(catalog.table(named: "no_such_table") == nil)
    }

    @Test func columnsCarryTypesAndFlags() throws {
        let processes = try #require(catalog.table(named: "processes"))
        #expect(processes.platforms == Set(OsqueryPlatform.allCases))
        #expect(processes.column(named: "pid")?.type == .bigint)
        #expect(processes.column(named: "name")?.type == .text)
        let file = try #require(catalog.table(named: "file"))
        #expect(file.column(named: "path")?.isRequired == true)
        // Some tables have hidden columns; SELECT * leaves them out.
        let withHidden = catalog.tables.filter { $0.columns.contains(where: \.isHidden) }
        #expect(!withHidden.isEmpty)
        for table in withHidden { #expect(table.visibleColumns.count < table.columns.count) }
    }

    @Test func eventedTables() {
        #expect(catalog.isEvented("process_events"))
        #expect(!catalog.isEvented("processes"))
        #expect(!catalog.isEvented("nonexistent"))
    }

    @Test func tablesPerPlatform() {
        let darwin = catalog.tables(on: .darwin)
        #expect(darwin.contains { $0.name == "apps" })
        #expect(!darwin.contains { $0.name == "programs" })
        #expect(catalog.tables(on: .windows).contains { $0.name == "programs" })
        #expect(catalog.tables(onAnyOf: Set(OsqueryPlatform.allCases)).count == catalog.tables.count)
    }

    @Test func decodesMinimalJSONAndIgnoresUnknownPlatforms() throws {
        let json = """
            {"source": "test", "tables": [
              {"name": "b_table", "platforms": ["linux", "freebsd"], "evented": true,
               "columns": [{"name": "x", "type": "unsigned_bigint", "hidden": true, "index": true}]},
              {"name": "a_table", "platforms": ["darwin"], "columns": [{"name": "y", "type": "weird"}]}
            ]}
            """
        let catalog = try OsqueryTableCatalog(jsonData: Data(json.utf8))
        #expect(catalog.source == "test")
        #expect(catalog.tables.map(\.name) == ["a_table", "b_table"])
        let b = try #require(catalog.table(named: "b_table"))
        #expect(b.platforms == [.linux])
        #expect(b.isEvented)
        #expect(b.columns[0].isHidden && b.columns[0].isIndex && !b.columns[0].isRequired)
        #expect(b.columns[0].type.sqlDeclaration == "UNSIGNED BIGINT")
        #expect(catalog.table(named: "a_table")?.columns[0].type.rawValue == "weird")
    }

    @Test func rejectsMalformedJSON() {
        #expect(throws: (any Error).self) { try OsqueryTableCatalog(jsonData: Data("{\"tables\": 3}".utf8)) }
    }
}
