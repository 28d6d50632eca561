import FengqiaoServer
import Foundation
import Testing

@Suite("import: format and encoding detection")
struct ImportFileFormatTests {
    @Test("GB18030 (Chinese Excel's CSV) is detected and decoded")
    func gb18030() throws {
        let url = ImportFixtures.url("gb18030.csv")
        #expect(try ImportFileFormat.detect(fileAt: url) == .csv(.gb18030))
        let rows = try ImportFixtures.rows(url)
        #expect(rows == [
            ImportRow(line: 1, fields: ["姓名", "身份证号"]),
            ImportRow(line: 2, fields: ["张三", "530481199001010011"]),
        ])
    }

    @Test("UTF-8 with BOM and CRLF: BOM removed from the first header")
    func utf8BOM() throws {
        let url = ImportFixtures.url("utf8-bom.csv")
        #expect(try ImportFileFormat.detect(fileAt: url) == .csv(.utf8BOM))
        let rows = try ImportFixtures.rows(url)
        #expect(rows.map(\.fields) == [["姓名", "身份证号"], ["张三", "530481199001010011"]])
        #expect(rows.map(\.line) == [1, 2])
    }

    @Test("UTF-8 without BOM")
    func utf8() throws {
        let url = try ImportFixtures.temporaryFile("姓名,身份证号\n张三,530481199001010011\n")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try ImportFileFormat.detect(fileAt: url) == .csv(.utf8))
        #expect(try ImportFixtures.rows(url)[0].fields == ["姓名", "身份证号"])
    }

    @Test("UTF-16 LE with BOM, tab-separated (Excel's 'Unicode text')")
    func utf16LE() throws {
        let url = ImportFixtures.url("utf16le-bom.csv")
        #expect(try ImportFileFormat.detect(fileAt: url) == .tsv(.utf16LE))
        #expect(try ImportFixtures.rows(url).map(\.fields) == [["姓名", "身份证号"], ["张三", "530481199001010011"]])
    }

    @Test("UTF-16 BE with BOM")
    func utf16BE() throws {
        let url = ImportFixtures.url("utf16be-bom.csv")
        #expect(try ImportFileFormat.detect(fileAt: url) == .csv(.utf16BE))
        #expect(try ImportFixtures.rows(url)[1].fields == ["张三", "530481199001010011"])
    }

    @Test("UTF-16 LE without BOM is recognised by its NUL pattern, not refused as binary")
    func utf16WithoutBOM() throws {
        let bytes = Array("name,id\nZhang,1\n".data(using: .utf16LittleEndian)!)
        let url = try ImportFixtures.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try ImportFileFormat.detect(fileAt: url) == .csv(.utf16LE))
        #expect(try ImportFixtures.rows(url).map(\.fields) == [["name", "id"], ["Zhang", "1"]])
    }

    @Test("a GBK character split across a chunk boundary is decoded whole")
    func gb18030AcrossChunks() throws {
        let text = String(repeating: "张三,云南省玉溪市澄江市\n", count: 200)
        let bytes = Array(text.data(using: String.Encoding(rawValue: 0x8000_0632))!)
        let url = try ImportFixtures.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let rows = try ImportFixtures.rows(url, chunkSize: 17)
        #expect(rows.count == 200)
        #expect(rows.allSatisfy { $0.fields == ["张三", "云南省玉溪市澄江市"] })
    }

    @Test("bytes valid in neither UTF-8 nor GB18030: the error names the line")
    func badEncoding() {
        let url = ImportFixtures.url("bad-encoding.csv")
        let error = ImportFixtures.importError { _ = try ImportFixtures.rows(url) }
        #expect(error == .invalidEncoding(line: 3, encoding: .gb18030))
        #expect(error?.description.contains("line 3") == true)
    }

    @Test("binary content is refused with the reason", arguments: [
        ("binary.bin", ImportFileError.binaryFile(kind: "a binary file (it contains NUL bytes)")),
        ("old.xls", ImportFileError.legacyExcel),
        ("doc.pdf", ImportFileError.binaryFile(kind: "a PDF document")),
    ])
    func binary(name: String, expected: ImportFileError) {
        let error = ImportFixtures.importError { _ = try ImportFileFormat.detect(fileAt: ImportFixtures.url(name)) }
        #expect(error == expected)
    }

    @Test("old .xls message tells what to do")
    func legacyMessage() {
        #expect(ImportFileError.legacyExcel.description == "this is an old .xls file; save it as .xlsx or CSV")
    }

    @Test("PNG and JPEG signatures; a file named .csv is judged by content")
    func images() throws {
        for (bytes, kind) in [([UInt8]([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG image"),
                              ([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10], "a JPEG image")] {
            let url = try ImportFixtures.temporaryFile(bytes, suffix: ".csv")
            defer { try? FileManager.default.removeItem(at: url) }
            #expect(ImportFixtures.importError { _ = try ImportFileFormat.detect(fileAt: url) } == .binaryFile(kind: kind))
        }
    }

    @Test("an empty file")
    func empty() throws {
        let url = try ImportFixtures.temporaryFile([])
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(ImportFixtures.importError { _ = try ImportFileFormat.detect(fileAt: url) } == .emptyFile)
    }

    @Test("ASCII first and UTF-8 Chinese after the first 8 KiB is still UTF-8")
    func lateNonASCII() throws {
        let text = String(repeating: "a,b\n", count: 5000) + "张三,1\n"
        let url = try ImportFixtures.temporaryFile(text)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try ImportFileFormat.detect(fileAt: url) == .csv(.utf8))
        #expect(try ImportFixtures.rows(url).last?.fields == ["张三", "1"])
    }
}
