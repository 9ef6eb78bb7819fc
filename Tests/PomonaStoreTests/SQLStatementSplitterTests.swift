import Testing

@testable import PomonaStore

@Suite("SQLStatementSplitter")
struct SQLStatementSplitterTests {
    @Test(arguments: [
        ("SELECT 1", "SELECT 1"),
        ("SELECT 1;", "SELECT 1"),
        ("  SELECT 1 ;;  ;\n", "SELECT 1"),
        (";; SELECT 1", "SELECT 1"),
        ("SELECT ';' AS x; -- trailing comment", "SELECT ';' AS x"),
        ("SELECT \"a;b\", `c;d`, [e;f] FROM t; /* done; */", "SELECT \"a;b\", `c;d`, [e;f] FROM t"),
        ("SELECT 'it''s; fine'", "SELECT 'it''s; fine'"),
        ("-- leading\nSELECT 1", "-- leading\nSELECT 1"),
    ])
    func singleStatements(sql: String, first: String) {
        let result = SQLStatementSplitter.split(sql)
        #expect(result.first == first)
        #expect(result.remainder == nil)
    }

    @Test func secondStatementIsReported() {
        let result = SQLStatementSplitter.split("SELECT 1; ; DELETE FROM t;")
        #expect(result.first == "SELECT 1")
        #expect(result.remainder == "DELETE FROM t;")
    }

    @Test(arguments: ["", "  ", ";;", "-- only a comment", "/* block */ ;"])
    func emptyInput(sql: String) {
        #expect(SQLStatementSplitter.split(sql) == .init(first: nil, remainder: nil))
    }
}

@Suite("SQLStatementSplitter.leadingKeyword")
struct LeadingKeywordTests {
    @Test(arguments: [
        ("select 1", "SELECT"),
        ("  -- c\n /* d */ (SELECT 1)", "SELECT"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("attach database 'x' as y", "ATTACH"),
        ("/* unterminated", ""),
        ("'literal'", ""),
    ])
    func keywords(sql: String, keyword: String) {
        #expect(SQLStatementSplitter.leadingKeyword(sql) == keyword)
    }
}
