import FengqiaoCore
import FengqiaoServer
import Foundation
import Testing
import ZIPFoundation

/// Writes a minimal .xlsx: content types, workbook, its relationships, one sheet, shared strings.
enum MinimalWorkbook {
    static func write(sheetRows: String, sharedStrings: [String], contentTypes: String? = nil) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("import-test-\(UUID().uuidString).xlsx")
        let archive = try Archive(url: url, accessMode: .create)
        let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        let parts: [(String, String)] = [
            ("[Content_Types].xml", contentTypes ?? """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
                </Types>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="\(ns)" xmlns:r="\(rel)"><sheets><sheet name="居民" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="\(rel)/worksheet" Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId2" Type="\(rel)/sharedStrings" Target="sharedStrings.xml"/>\
                </Relationships>
                """),
            ("xl/worksheets/sheet1.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <worksheet xmlns="\(ns)"><sheetData>\(sheetRows)</sheetData></worksheet>
                """),
            ("xl/sharedStrings.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <sst xmlns="\(ns)" count="\(sharedStrings.count)" uniqueCount="\(sharedStrings.count)">\
                \(sharedStrings.map { "<si><t>\($0)</t></si>" }.joined())</sst>
                """),
        ]
        for (path, text) in parts {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) {
                position, size in data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return url
    }
}

@Suite("import: XLSX reader")
struct ImportXLSXReaderTests {
    static let rows = """
        <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>\
        <row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="inlineStr"><is><t>530481199001010011</t></is></c>\
        <c r="C2"><v>45658</v></c><c r="D2" t="b"><v>1</v></c></row>\
        <row r="3" s="1"/>\
        <row r="5"><c r="A5" t="inlineStr"><is><r><t>李</t></r><r><t>四</t></r></is></c><c r="C5"><v>32874.75</v></c></row>\
        <row r="6"><c r="A6" t="s"><v>5</v></c><c r="B6"><f>CONCAT("5304",A1)</f><v>5304</v></c><c r="D6" t="e"><v>#N/A</v></c></row>\
        <row r="7"><c r="A7" t="s"><v>4</v></c><c r="F7"><v>9</v></c></row>
        """
    static let strings = ["姓名", "身份证号", "出生日期", "在住", "张三", "王&amp;五"]

    @Test("detected by content, cells converted, sparse cells and empty rows handled")
    func read() throws {
        let url = try MinimalWorkbook.write(sheetRows: Self.rows, sharedStrings: Self.strings)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try ImportFileFormat.detect(fileAt: url) == .xlsx)
        #expect(try ImportXLSXReader(fileAt: url).usesDate1904 == false)
        let rows = try ImportFixtures.rows(url)
        #expect(rows.map(\.line) == [1, 2, 5, 6, 7])
        #expect(rows[0].fields == ["姓名", "身份证号", "出生日期", "在住"])
        #expect(rows[1].fields == ["张三", "530481199001010011", "45658", "TRUE"])
        #expect(rows[1].problems.isEmpty)
        #expect(rows[2].fields == ["李四", "", "32874.75", ""])
        #expect(ImportExcelDate.calendarDate(fromCellText: rows[1][2])?.description == "2025-01-01")
        #expect(ImportExcelDate.calendarDate(fromCellText: rows[2][2])?.description == "1990-01-01")
        #expect(rows[3][0] == "王&五")
    }

    @Test("a formula cell is reported per cell with its reference; an error value too")
    func formula() throws {
        let url = try MinimalWorkbook.write(sheetRows: Self.rows, sharedStrings: Self.strings)
        defer { try? FileManager.default.removeItem(at: url) }
        let row = try ImportFixtures.rows(url)[3]
        #expect(row.problems == [
            ImportCellProblem(line: 6, column: 2, reason: .formulaCell),
            ImportCellProblem(line: 6, column: 4, reason: .errorValue("#N/A")),
        ])
        #expect(row.problems[0].description == "cell B6: formula cells are not imported; paste values")
    }

    @Test("values past the header's width make a ragged row")
    func ragged() throws {
        let url = try MinimalWorkbook.write(sheetRows: Self.rows, sharedStrings: Self.strings)
        defer { try? FileManager.default.removeItem(at: url) }
        let row = try ImportFixtures.rows(url)[4]
        #expect(row.fields == ["张三", "", "", "", "", "9"])
        #expect(row.problems == [ImportCellProblem(line: 7, column: nil, reason: .raggedRow(expected: 4, found: 6))])
    }

    @Test("a ZIP that is not a workbook is refused")
    func notWorkbook() throws {
        let url = try MinimalWorkbook.write(sheetRows: "", sharedStrings: [], contentTypes: """
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
            """)
        defer { try? FileManager.default.removeItem(at: url) }
        guard case .binaryFile? = ImportFixtures.importError({ _ = try ImportFileFormat.detect(fileAt: url) }) else {
            Issue.record("expected binaryFile")
            return
        }
    }

    @Test("a broken worksheet is a workbook error")
    func brokenSheet() throws {
        let url = try MinimalWorkbook.write(sheetRows: "<row r=\"1\"><c r=\"A1\"><v>1</v></row>", sharedStrings: [])
        defer { try? FileManager.default.removeItem(at: url) }
        guard case .malformedWorkbook? = ImportFixtures.importError({ _ = try ImportFixtures.rows(url) }) else {
            Issue.record("expected malformedWorkbook")
            return
        }
    }

    @Test("a worksheet cut short, or a cell naming a shared string the workbook lacks, is a workbook error (nothing half-imported)")
    func truncatedSheet() throws {
        // An unterminated comment swallows the rest of the part, as a cut-off file ends.
        let cut = try MinimalWorkbook.write(sheetRows: "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row><row r=\"2\"><c r=\"A2\"><v>2</v></c></row><!--", sharedStrings: ["姓名"])
        defer { try? FileManager.default.removeItem(at: cut) }
        guard case .malformedWorkbook? = ImportFixtures.importError({ _ = try ImportFixtures.rows(cut) }) else {
            Issue.record("expected malformedWorkbook for a truncated worksheet")
            return
        }
        let missing = try MinimalWorkbook.write(sheetRows: "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>7</v></c></row>", sharedStrings: ["姓名"])
        defer { try? FileManager.default.removeItem(at: missing) }
        guard case .malformedWorkbook? = ImportFixtures.importError({ _ = try ImportFixtures.rows(missing) }) else {
            Issue.record("expected malformedWorkbook for a missing shared string")
            return
        }
    }

    @Test("cell references map to column index and row", arguments: [
        ("A1", 0, 1), ("C12", 2, 12), ("Z3", 25, 3), ("AA10", 26, 10), ("XFD1048576", 16383, 1_048_576), ("$B$2", 1, 2),
    ])
    func references(text: String, column: Int, row: Int) {
        let ref = ImportCellReference(text)
        #expect(ref?.column == column)
        #expect(ref?.row == row)
        #expect(ImportCellReference(column: column, row: row).description == text.replacingOccurrences(of: "$", with: ""))
    }

    @Test("bad references", arguments: ["", "12", "A0", "ABCD1", "A1B", "中1"])
    func badReferences(text: String) {
        #expect(ImportCellReference(text) == nil)
    }

    @Test("1900-system serials, with Excel's phantom 29 February 1900")
    func serials() {
        #expect(ImportExcelDate.calendarDate(fromSerial: 1)?.description == "1900-01-01")
        #expect(ImportExcelDate.calendarDate(fromSerial: 59)?.description == "1900-02-28")
        #expect(ImportExcelDate.calendarDate(fromSerial: 60) == nil)
        #expect(ImportExcelDate.calendarDate(fromSerial: 61)?.description == "1900-03-01")
        #expect(ImportExcelDate.calendarDate(fromSerial: 36586)?.description == "2000-03-01")
        #expect(ImportExcelDate.calendarDate(fromSerial: 2_958_465)?.description == "9999-12-31")
        #expect(ImportExcelDate.calendarDate(fromSerial: 0) == nil)
        #expect(ImportExcelDate.calendarDate(fromCellText: "abc") == nil)
        #expect(ImportExcelDate.calendarDate(fromSerial: 0, date1904: true)?.description == "1904-01-01")
        #expect(ImportExcelDate.calendarDate(fromSerial: 44196, date1904: true)?.description == "2025-01-01")
    }
}
