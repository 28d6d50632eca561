import FengqiaoServer
import Foundation
import Testing

@Suite("import: templates and header matching")
struct ImportTemplateTests {
    static let template = ImportTemplate(name: "residents", fields: [
        .init(key: "name", chineseHeader: "姓名", englishHeader: "Name", isRequired: true),
        .init(key: "idNumber", chineseHeader: "身份证号", englishHeader: "ID number", isRequired: true,
              aliases: ["公民身份号码"]),
        .init(key: "phone", chineseHeader: "联系电话", englishHeader: "Phone"),
        .init(key: "address", chineseHeader: "居住地址", englishHeader: "Residence address", isRequired: true),
    ])

    @Test("Chinese, English and alias headers match, ignoring case, spaces of any width, BOM, full-width letters and *")
    func match() throws {
        let mapping = try Self.template.match(header: ["\u{FEFF}姓 名", " ｉｄ　NUMBER ", "备注", "residence address*", "phone"])
        #expect(mapping.columns == ["name": 0, "idNumber": 1, "address": 3, "phone": 4])
        #expect(mapping.unknownColumns == [.init(column: 2, header: "备注")])
        #expect(mapping.warnings == ["column C \"备注\" is not part of the template and is ignored"])
        #expect(mapping.value("idNumber", in: ImportRow(line: 2, fields: ["张三", "530481199001010011"])) == "530481199001010011")
        #expect(try Self.template.match(header: ["公民身份号码", "姓名", "居住地址"]).column(for: "idNumber") == 0)
    }

    @Test("every missing required column is listed at once")
    func missing() {
        let error = ImportFixtures.importError { _ = try Self.template.match(header: ["联系电话", "其他"]) }
        #expect(error == .invalidHeader(missing: ["姓名", "身份证号", "居住地址"], duplicated: []))
        #expect(error?.description.contains("姓名, 身份证号, 居住地址") == true)
    }

    @Test("a first row with no known column (no header, or Big5 text read as GB18030) says so instead of listing every column")
    func unrecognized() throws {
        // "姓名,身份证号" in Big5 bytes decodes as GB18030 to other characters.
        let big5: [UInt8] = [0xA9, 0x6D, 0xA6, 0x57, 0x2C, 0xA8, 0xAD, 0xA5, 0xF7, 0xC3, 0xD2, 0xB8, 0xB9, 0x0D, 0x0A]
        let url = try ImportFixtures.temporaryFile(big5)
        defer { try? FileManager.default.removeItem(at: url) }
        let header = try #require(try ImportFixtures.rows(url).first).fields
        #expect(header.count == 2 && header[0] != "姓名")
        let error = ImportFixtures.importError { _ = try Self.template.match(header: header) }
        #expect(error == .unrecognizedHeader(columns: 2))
        #expect(error?.description.contains("CSV UTF-8") == true)
        // A data row where the header should be: the message does not repeat the row's values.
        let noHeader = ImportFixtures.importError { _ = try Self.template.match(header: ["张三", "530481199001010011", "仪凤路1号"]) }
        #expect(noHeader == .unrecognizedHeader(columns: 3))
        #expect(noHeader?.description.contains("530481") == false)
        // One known column is enough to list what is missing instead.
        #expect(ImportFixtures.importError { _ = try Self.template.match(header: ["姓名", "x"]) } == .invalidHeader(missing: ["身份证号", "居住地址"], duplicated: []))
    }

    @Test("a field given twice (even under two names) is an error")
    func duplicates() {
        let error = ImportFixtures.importError {
            _ = try Self.template.match(header: ["姓名", "身份证号", "公民身份号码", "居住地址", "Name"])
        }
        #expect(error == .invalidHeader(missing: [], duplicated: ["姓名", "身份证号"]))
    }

    @Test("the downloadable template is UTF-8 CSV with a BOM, and reads back through the importer")
    func download() throws {
        let data = Self.template.csvData()
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: data.dropFirst(3), as: UTF8.self) == "姓名,身份证号,联系电话,居住地址\r\n")
        #expect(Self.template.headerRow(.english) == ["Name", "ID number", "Phone", "Residence address"])
        let url = try ImportFixtures.temporaryFile(Array(Self.template.csvData(.english)))
        defer { try? FileManager.default.removeItem(at: url) }
        let header = try ImportFixtures.rows(url)[0]
        #expect(try Self.template.match(header: header.fields).columns.count == 4)
    }
}
