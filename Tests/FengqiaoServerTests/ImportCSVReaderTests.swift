import FengqiaoServer
import Foundation
import Testing

@Suite("import: CSV reader (RFC 4180, streaming)")
struct ImportCSVReaderTests {
    func read(_ text: String, chunkSize: Int = 64 * 1024) throws -> [ImportRow] {
        let url = try ImportFixtures.temporaryFile(text)
        defer { try? FileManager.default.removeItem(at: url) }
        return try ImportFixtures.rows(url, chunkSize: chunkSize)
    }

    @Test("quoted fields with commas, doubled quotes and line breaks; line numbers follow the file", arguments: [1, 3, 64 * 1024])
    func quoted(chunkSize: Int) throws {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n1,,3\r\n\"\",\"\",\"\"\r\n"
        let rows = try read(text, chunkSize: chunkSize)
        #expect(rows.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\r\nlines"], ["1", "", "3"], ["", "", ""]])
        #expect(rows.map(\.line) == [1, 2, 4, 5])
        #expect(rows.allSatisfy { $0.problems.isEmpty })
    }

    @Test("LF, lone CR, no final newline, trailing empty lines")
    func lineEndings() throws {
        let rows = try read("h1,h2\nA,1\rB,2\n\n\nC,3")
        #expect(rows.map(\.fields) == [["h1", "h2"], ["A", "1"], ["B", "2"], ["C", "3"]])
        #expect(rows.map(\.line) == [1, 2, 3, 6])
        let trailing = try read("h1,h2\r\nA,1\r\n\r\n\r\n   \r\n")
        #expect(trailing.map(\.fields) == [["h1", "h2"], ["A", "1"]])
    }

    @Test("a ragged row is reported with its line and column count, and reading goes on")
    func ragged() throws {
        let rows = try read("a,b,c\n1,2\n4,5,6\n7,8,9,10\n")
        #expect(rows.count == 4)
        #expect(rows[1].problems == [ImportCellProblem(line: 2, column: nil, reason: .raggedRow(expected: 3, found: 2))])
        #expect(rows[2].problems.isEmpty)
        #expect(rows[3].problems.first?.description == "line 4: 4 columns where the header has 3")
    }

    @Test("a text cell starting with = is a formula cell (CSV injection), reported with its reference; = alone and a later = are data")
    func formulaText() throws {
        let rows = try read("姓名,备注,电话\n\"=HYPERLINK(\"\"http://x\"\")\",ok,+8613800138000\n张三,=,a=b\n")
        #expect(rows[1].problems == [ImportCellProblem(line: 2, column: 1, reason: .formulaCell)])
        #expect(rows[1].problems.first?.description == "cell A2: formula cells are not imported; paste values")
        #expect(rows[2].problems.isEmpty)
    }

    @Test("a truncated file (quote never closed) is an error naming the line the field starts on")
    func truncated() {
        let error = ImportFixtures.importError { _ = try ImportFixtures.rows(ImportFixtures.url("truncated.csv")) }
        #expect(error == .unterminatedQuote(line: 2))
        #expect(error?.description.contains("line 2") == true)
    }

    @Test("a runaway quote stops at the record limit instead of filling memory")
    func recordLimit() throws {
        let url = try ImportFixtures.temporaryFile("a,b\n\"open," + String(repeating: "x,y\n", count: 10_000))
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = try ImportCSVReader(fileAt: url, encoding: .utf8, maxRecordBytes: 1000)
        #expect(try reader.next()?.fields == ["a", "b"])
        #expect(ImportFixtures.importError { _ = try reader.next() } == .recordTooLong(line: 2, limitBytes: 1000))
    }

    @Test("tab-separated text is detected and split on tabs; commas stay in fields")
    func tsv() throws {
        let rows = try read("姓名\t地址\n张三\t云南省, 澄江市\n")
        #expect(rows.map(\.fields) == [["姓名", "地址"], ["张三", "云南省, 澄江市"]])
    }

    @Test("text after a closing quote is kept, as Excel does")
    func lenientQuote() throws {
        #expect(try read("a,b\n\"x\"y,z\n")[1].fields == ["xy", "z"])
    }
}
