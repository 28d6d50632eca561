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
