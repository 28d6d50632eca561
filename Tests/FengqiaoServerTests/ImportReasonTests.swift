import FengqiaoCore
@testable import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Import reasons for Chinese grid workers: every bad field of a row reported on its own column
/// with a Chinese reason (English kept for the English page), the row counted once; 民族 by
/// GB/T 3304 code or name.
@Suite("import reasons: Chinese, every bad field, 民族 by name", .serialized)
struct ImportReasonTests {
    static let header = "姓名,证件号码,人口类型,民族,居住事由,与住所关系,联系电话,登记日期,网格编码,街路巷,门牌号,楼栋,单元,楼层,户室号\r\n"

    static func row(_ name: String, _ idNumber: String, type: String = "流动", ethnicity: String = "", phone: String = "13900139000",
                    registered: String = "", grid: String, room: String = "201") -> String {
        "\(name),\(idNumber),\(type),\(ethnicity),务工,租赁,\(phone),\(registered),\(grid),凤麓路,3号,1,1,2,\(room)\r\n"
    }

    static func id(_ seq: Int, check: Character? = nil) -> String { PopulationImportTests.id(seq, check: check) }

    static func badCheck(_ seq: Int) -> String { id(seq, check: id(seq).last == "0" ? "1" : "0") }

    /// Rows 2–7: three good ones (民族 汉族, 汉, 01), one with three bad fields, one with an
    /// unknown 民族, one with a bad ID number, population type and grid code.
    static func text(_ g: String) -> String {
        header
            + row("张三", id(1), ethnicity: "汉族", grid: g)                                                  // 2 good
            + row("李四", badCheck(2), phone: "12345", registered: "2026-02-30", grid: g)                    // 3 three bad fields
            + row("王五", id(3), ethnicity: "汉", grid: g, room: "202")                                       // 4 good
            + row("赵六", id(4), ethnicity: "01", grid: g, room: "203")                                       // 5 good
            + row("钱七", id(5), ethnicity: "穿青人", grid: g)                                                 // 6 unknown 民族
            + row("孙八", badCheck(6), type: "火星", grid: "NOPE")                                            // 7 ID, type, grid
    }

    static func resident(_ app: Application, _ idNumber: String) async throws -> ActualResident? {
        try await PopulationService(app.fengqiao).residents(try PopulationService.SearchInput(idNumber: idNumber).query(), visible: .everything).0.first
    }

    @Test("a row with three bad fields gives three issues in Chinese on their columns; good rows are imported; 民族 by name or code is stored as the code")
    func everyBadField() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let url = try PopulationImportTests.file(Self.text(t.gridA.code))
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await PopulationImportTests.importResidents(app, url)
            #expect(r.read == 6 && r.imported == 3 && r.rejectedRows == 3, "\(r.summary) \(r.rejected)")
            #expect(r.summary.hasSuffix("3 rejected"), "\(r.summary)")
            #expect(r.rejected.map(\.line) == [3, 3, 3, 6, 7, 7, 7])

            let three = r.rejected.filter { $0.line == 3 }
            #expect(three.map(\.column) == ["证件号码", "联系电话", "登记日期"])
            let expected = "校验码 \(Self.badCheck(2).last!) 不正确，应为 \(Self.id(2).last!)"
            #expect(three.map(\.reason) == [expected, ValidationReason.phoneMobile.chinese, "「2026-02-30」不是有效日期（格式 YYYY-MM-DD）"])
            #expect(three.map(\.reasonEnglish) == ["check character \(Self.badCheck(2).last!) does not match; expected \(Self.id(2).last!)",
                                                     "a mobile number must be 1[3-9] followed by 9 digits", "2026-02-30 is not a calendar date YYYY-MM-DD"])

            let ethnicity = try #require(r.rejected.first { $0.line == 6 })
            #expect(ethnicity.column == "民族" && ethnicity.reason == "「穿青人」不是 GB/T 3304 民族代码或名称（如 01 或 汉族）")
            // Issues of a row come in the file's column order, the address's grid included.
            #expect(r.rejected.filter { $0.line == 7 }.map(\.column) == ["证件号码", "人口类型", "网格编码"])
            #expect(r.rejected.filter { $0.line == 7 }.map(\.reason)[1] == "「火星」不是以下之一：户籍、流动、境外")
            #expect(r.rejected.filter { $0.line == 7 }.map(\.reason)[2] == "您的辖区内没有网格 NOPE")

            for seq in [1, 3, 4] { #expect(try await Self.resident(app, Self.id(seq))?.ethnicity == "01", "\(seq)") }
            for seq in [2, 5, 6] { #expect(try await Self.resident(app, Self.id(seq)) == nil) }

            // The error file (CLI --errors) carries the Chinese reasons, one line per bad field.
            let csv = String(decoding: PopulationImportService.issuesCSV(r), as: UTF8.self)
            let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 1 + 7)
            #expect(csv.contains("\r\n3,联系电话,\(ValidationReason.phoneMobile.chinese)\r\n"))
            #expect(csv.contains("\r\n6,民族,「穿青人」不是 GB/T 3304 民族代码或名称（如 01 或 汉族）\r\n"))
            #expect(!csv.contains("does not match"))
        }
    }

    @Test("a dry run reports the same issues and counts and writes nothing")
    func dryRun() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let url = try PopulationImportTests.file(Self.text(t.gridA.code))
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await PopulationImportTests.importResidents(app, url, dryRun: true)
            #expect(r.imported == 3 && r.rejectedRows == 3 && r.rejected.count == 7, "\(r.summary)")
            #expect(try await tableCount(app, "actual_residents") == 0)
        }
    }

    @Test("an import job counts rejected rows once; its issues CSV is Chinese; the page shows Chinese or English with the language")
    func job() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await ImportJobTests.officer(app, t)
            let res = try await ImportJobTests.upload(app, token: token, query: "kind=residents", ImportJobTests.utf8BOM(Self.text(t.gridA.code)))
            #expect(res.status == .accepted, "\(res.body.string)")
            let done = try await ImportJobTests.finished(app, token: token, try json(res, as: ImportJobTests.Job.self).id)
            #expect(done.status == "succeeded", "\(done.error ?? "")")
            #expect(done.counters == ImportJobTests.Counters(read: 6, imported: 3, unchanged: 0, flagged: 0, rejected: 3, addressesCreated: 3))

            let issues = try await apiCall(app, .GET, done.links.issues, token: token)
            let csv = String(decoding: Array(issues.body.readableBytesView).dropFirst(3), as: UTF8.self)
            let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 1 + 7, "\(lines)")
            #expect(lines.contains("3,联系电话,未导入 rejected,\(ValidationReason.phoneMobile.chinese)"), "\(lines)")
            #expect(lines.contains("6,民族,未导入 rejected,「穿青人」不是 GB/T 3304 民族代码或名称（如 01 或 汉族）"), "\(lines)")

            var b = Browser(app)
            _ = try await b.login("officer.a")
            let zh = try await b.get(done.links.page)
            #expect(zh.status == .ok)
            #expect(zh.body.string.contains(ValidationReason.phoneMobile.chinese) && !zh.body.string.contains("a mobile number must be"))
            b.cookies["fq_lang"] = "en"
            let en = try await b.get(done.links.page)
            #expect(en.body.string.contains("a mobile number must be 1[3-9] followed by 9 digits"))
            #expect(!en.body.string.contains(ValidationReason.phoneMobile.chinese))
        }
    }

    @Test("API: 民族 by name or code is stored as the code; an unknown one is a 422 naming the field, in English")
    func apiEthnicity() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            struct Out: Decodable { var ethnicity: String? }
            for (n, raw) in ["汉族", "汉", "01"].enumerated() {
                let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                          json: PopulationTests.residentJSON(address: f.addressA, idNumber: Self.id(10 + n), extra: #","ethnicity":"\#(raw)""#))
                #expect(c.status == .created, "\(c.body.string)")
                #expect(try json(c, as: Out.self).ethnicity == "01", "\(raw)")
            }
            let bad = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                        json: PopulationTests.residentJSON(address: f.addressA, idNumber: Self.id(20), extra: #","ethnicity":"穿青人""#))
            #expect(bad.status == .unprocessableEntity)
            let p = try #require(problem(bad))
            #expect(p.errors?.map(\.field) == ["ethnicity"])
            #expect(p.errors?.first?.reason == "穿青人 is not a GB/T 3304 ethnicity code or name (01 or 汉族)")
        }
    }

    @Test("organizations: every bad cell and rule of a row is reported, each on its column")
    func organizationCells() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let text = RecordsImportTests.orgHeader
                + RecordsImportTests.orgRow("9135", type: "银行", industry: "98", grid: g)        // 2 code, type, industry
                + RecordsImportTests.orgRow("91350100M000100Y43", grid: g, room: "102")          // 3 good
            let url = try RecordsImportTests.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await RecordsImportTests.importOrganizations(app, url)
            #expect(r.imported == 1 && r.rejectedRows == 1, "\(r.summary) \(r.rejected)")
            #expect(r.rejected.map(\.column) == ["统一社会信用代码", "单位类型", "行业代码"], "\(r.rejected)")
            #expect(r.rejected.map(\.reason) == ["应为 18 位（现有 4 位）", "「银行」不是以下之一：机关、事业单位、企业、个体工商户、社会组织、其他",
                                                "大类 98 不在 GB/T 4754 中（01–97）"], "\(r.rejected)")
        }
    }

    @Test("houses: every bad cell of a row is reported, each on its column")
    func houseCells() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            // Bad use, area, owner ID number, tenant phone and group-rental flag in one row; a good row after it.
            let text = RecordsImportTests.houseHeader
                + RecordsImportTests.houseRow("201", use: "城堡", area: "abc", ownerID: "12345", occupancy: "出租",
                                              rental: "居住,甲,530481199001010011,12345,2026-01-01,,也许", grid: g)
                + RecordsImportTests.houseRow("202", grid: g)
            let url = try RecordsImportTests.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await RecordsImportTests.importHouses(app, url)
            #expect(r.imported == 1 && r.rejectedRows == 1, "\(r.summary) \(r.rejected)")
            #expect(r.rejected.map(\.column) == ["房屋用途", "建筑面积", "房主证件号码", "承租人联系电话", "是否群租"], "\(r.rejected)")
            #expect(r.rejected.map(\.reason) == ["「城堡」不是以下之一：住宅、商业、工业、办公、混合、其他", "「abc」不是平方米数",
                                                "应为 18 位，或 15 位一代身份证号码（现有 5 位）", "第 1 个承租人：手机号码应为 1 开头、第二位为 3–9 的 11 位数字",
                                                "「也许」应为“是”或“否”"], "\(r.rejected)")
        }
    }
}
