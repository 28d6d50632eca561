import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor

/// Bulk import of actual houses and actual organisations: good rows kept, bad rows reported
/// with line, column and reason, addresses created once, re-import idempotent, dry run writes
/// nothing, rows outside the importer's territory refused.
@Suite("houses and organizations import", .serialized)
struct RecordsImportTests {
    static let houseHeader = "房屋编码,房屋用途,建筑面积,房主姓名,房主证件号码,房主联系电话,使用状况,出租用途,承租人姓名,承租人证件号码,承租人联系电话,租赁起始日期,租赁截止日期,是否群租,地址ID,网格编码,街路巷,门牌号,楼栋,单元,楼层,户室号\r\n"

    static func houseRow(_ code: String, use: String = "住宅", area: String = "60", owner: String = "李梅", ownerID: String = "", occupancy: String = "自住",
                         rental: String = ",,,,,,", addressID: String = "", grid: String, room: String = "101") -> String {
        let address = addressID.isEmpty ? "\(grid),凤麓路,3号,1,1,1,\(room)" : ",,,,,,"
        return "\(code),\(use),\(area),\(owner),\(ownerID),,\(occupancy),\(rental),\(addressID),\(address)\r\n"
    }

    static let orgHeader = "统一社会信用代码,确认校验,单位名称,单位类型,行业代码,法定代表人,法定代表人证件号码,法定代表人联系电话,重点单位,特种行业,特种行业许可证号,网格编码,街路巷,门牌号,楼栋,单元,楼层,户室号\r\n"

    static func orgRow(_ uscc: String, confirm: String = "", name: String = "仪凤旅馆", type: String = "个体工商户", industry: String = "6110",
                       trade: String = "旅馆业", permit: String = "澄公特旅字001号", grid: String, room: String = "101") -> String {
        "\(uscc),\(confirm),\(name),\(type),\(industry),王五,530422198506150023,13700000002,是,\(trade),\(permit),\(grid),凤麓路,5号,1,1,1,\(room)\r\n"
    }

    static func file(_ text: String) throws -> URL { try ImportFixtures.temporaryFile([0xEF, 0xBB, 0xBF] + Array(text.utf8)) }

    static func importHouses(_ app: Application, _ url: URL, dryRun: Bool = false, visible: VisibleTerritory = .everything) async throws -> PopulationImportService.Report {
        try await PopulationImportService(app.fengqiao).importHouses(fileAt: url, options: .init(dryRun: dryRun), actor: .commandLine(), visible: visible)
    }

    static func importOrganizations(_ app: Application, _ url: URL, dryRun: Bool = false, visible: VisibleTerritory = .everything) async throws -> PopulationImportService.Report {
        try await PopulationImportService(app.fengqiao).importOrganizations(fileAt: url, options: .init(dryRun: dryRun), actor: .commandLine(), visible: visible)
    }

    static func houseFile(_ t: Territory, existingAddress: UUID) throws -> URL {
        let g = t.gridA.code
        let rented = "居住,李四;王芳,53048120150720004X;530422198506150023,13900000001;,2026/1/1,2026-12-31,否"
        return try file(houseHeader
            + houseRow("101", area: "85.5", owner: "张三", ownerID: "530481199001010011", occupancy: "出租", rental: rented, grid: g)   // 2 good, rented, two tenants
            + houseRow("102", grid: g)                                                                                          // 3 good, same address
            + houseRow("103", area: "85.555", grid: g)                                                                          // 4 area
            + houseRow("104", occupancy: "空置", rental: "居住,,,,,,", grid: g)                                                  // 5 rental field while vacant
            + houseRow("105", occupancy: "出租", rental: "居住,甲,530481199001010012,,2026-01-01,,", grid: g)                    // 6 tenant number
            + houseRow("106", use: "城堡", grid: g)                                                                              // 7 use
            + houseRow("107", addressID: idText(existingAddress), grid: g)                                                      // 8 good, by address id
            + houseRow("108", occupancy: "出租", rental: "居住,甲;乙,530422198506150023,,2026-01-01,,", grid: g))               // 9 lists differ
    }

    @Test("houses: good rows kept with their tenants, bad rows reported on their columns, re-import unchanged")
    func houses() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let existing = try await PopulationService(app.fengqiao).createAddress(
                .init(street: "东街", doorplate: "8号", building: "2", unit: "1", floor: "3", room: "301", gridId: t.gridA.id), actor: .commandLine(), visible: .everything)
            let url = try Self.houseFile(t, existingAddress: existing.id)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importHouses(app, url)
            #expect(r.read == 8 && r.imported == 3 && r.unchanged == 0 && r.flagged.isEmpty, "\(r.summary) \(r.rejected)")
            #expect(r.rejected.map(\.line) == [4, 5, 6, 7, 9])
            #expect(r.rejected.map(\.column) == ["建筑面积", "出租用途", "承租人证件号码", "房屋用途", "承租人证件号码"])
            #expect(r.rejected.first { $0.line == 6 }?.reason.hasPrefix("第 1 个承租人：") == true)
            #expect(r.rejected.first { $0.line == 6 }?.reasonEnglish.hasPrefix("tenant 1: ") == true)
            #expect(r.rejectedRows == 5)
            #expect(r.addressesCreated == 1)
            #expect(try await tableCount(app, "actual_houses") == 3)
            #expect(try await tableCount(app, "house_tenants") == 2)
            #expect(try await tableCount(app, "standard_addresses") == 2)
            let svc = HouseService(app.fengqiao)
            let rented = try await svc.houses(try HouseService.SearchInput(idNumber: "530422198506150023").query(), visible: .everything).0
            #expect(rented.map(\.houseCode) == ["101"])
            let h = try #require(rented.first)
            #expect(h.area?.description == "85.50" && h.tenancy?.tenants.map(\.name) == ["李四", "王芳"] && h.tenancy?.tenants[1].phone == nil)
            #expect(h.tenancy?.leaseStart == CalendarDate(yyyymmdd: "20260101") && h.tenancy?.groupRental == false)
            #expect(try await svc.houses(HouseQuery(addressID: existing.id), visible: .everything).0.map(\.houseCode) == ["107"])
            let audit = try await app.fengqiao.audit.list(AuditQuery(objectType: "house", action: .create), on: app.fengqiao.store.db)
            #expect(audit.count == 3)

            // The same file again: nothing new, the same rows rejected.
            let again = try await Self.importHouses(app, url)
            #expect(again.imported == 0 && again.unchanged == 3 && again.addressesCreated == 0, "\(again.summary)")
            #expect(again.rejected.map(\.line) == [4, 5, 6, 7, 9])
            #expect(try await tableCount(app, "actual_houses") == 3)
            #expect(try await tableCount(app, "standard_addresses") == 2)
        }
    }

    @Test("houses: a dry run counts and writes nothing; rows of another territory are refused")
    func housesDryRunAndScope() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let existing = try await PopulationService(app.fengqiao).createAddress(
                .init(street: "东街", doorplate: "8号", building: "2", unit: "1", floor: "3", room: "301", gridId: t.gridA.id), actor: .commandLine(), visible: .everything)
            let url = try Self.houseFile(t, existingAddress: existing.id)
            defer { try? FileManager.default.removeItem(at: url) }
            let dry = try await Self.importHouses(app, url, dryRun: true)
            #expect(dry.imported == 3 && dry.addressesCreated == 1 && dry.rejected.count == 5, "\(dry.summary)")
            #expect(try await tableCount(app, "actual_houses") == 0)
            #expect(try await tableCount(app, "standard_addresses") == 1)

            // A grid worker of grid B importing grid A's rows: every row refused on its address.
            let wb = try await makeUser(app, "worker.b", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridB.id))
            let visibleB = try await app.fengqiao.territories.visible(for: wb.scope, on: app.fengqiao.store.db)
            let scoped = try await Self.importHouses(app, url, visible: visibleB)
            // Every row refused (each once in the count), on its address and on any other bad cell.
            #expect(scoped.imported == 0 && scoped.rejectedRows == 8 && Set(scoped.rejected.map(\.line)).count == 8)
            #expect(scoped.rejected.first { $0.line == 2 }?.column == "网格编码")
            #expect(scoped.rejected.first { $0.line == 8 }?.column == "地址ID")
            #expect(try await tableCount(app, "actual_houses") == 0)
        }
    }

    @Test("houses: a file without address columns or id is refused as a whole")
    func housesBadHeader() async throws {
        try await withApp { app in
            _ = try await seedTerritory(app)
            let url = try Self.file("房屋编码,房屋用途,房主姓名,使用状况\r\n1,住宅,张三,自住\r\n")
            defer { try? FileManager.default.removeItem(at: url) }
            await #expect(throws: ImportFileError.self) { _ = try await Self.importHouses(app, url) }
            let noOwner = try Self.file("房屋编码,房屋用途,使用状况,地址ID\r\n1,住宅,自住,\(idText(UUID()))\r\n")
            defer { try? FileManager.default.removeItem(at: noOwner) }
            await #expect(throws: ImportFileError.invalidHeader(missing: ["房主姓名"], duplicated: [])) { _ = try await Self.importHouses(app, noOwner) }
            #expect(try await tableCount(app, "actual_houses") == 0)
        }
    }

    @Test("organizations: USCC check, confirmation column, duplicates in the file, bad rows on their columns, re-import unchanged")
    func organizations() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let text = Self.orgHeader
                + Self.orgRow("91350100M000100Y43", grid: g)                                                                          // 2 good
                + Self.orgRow("91350100M000100Y4Z", confirm: "是", name: "老字号商店", type: "企业", industry: "5211", trade: "无", permit: "", grid: g, room: "102") // 3 good, confirmed
                + Self.orgRow("91350100M000100Y4A", name: "某店", type: "企业", grid: g, room: "103")                                  // 4 check mismatch
                + Self.orgRow("91512081MA62K0260E", type: "银行", grid: g, room: "104")                                               // 5 type
                + Self.orgRow("91512081MA62K0260E", industry: "98", grid: g, room: "104")                                            // 6 industry
                + Self.orgRow("91350100M000100Y43", grid: g)                                                                          // 7 same code, same address
                + Self.orgRow("91350100M000100Y43", grid: g, room: "909")                                                             // 8 same code, other address
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importOrganizations(app, url)
            #expect(r.read == 7 && r.imported == 2 && r.unchanged == 1, "\(r.summary) \(r.rejected)")
            #expect(r.rejected.map(\.line) == [4, 5, 6])
            #expect(r.rejected.map(\.column) == ["统一社会信用代码", "单位类型", "行业代码"])
            #expect(r.rejected.first?.reason.contains("确认校验") == true, "\(r.rejected.first?.reason ?? "")")
            #expect(r.flagged.map(\.line) == [8] && r.flagged.first?.column == "统一社会信用代码")
            #expect(try await tableCount(app, "actual_organizations") == 2)
            let svc = OrganizationService(app.fengqiao)
            let confirmed = try await svc.organizations(try OrganizationService.SearchInput(uscc: "91350100M000100Y4Z").query(), visible: .everything).0
            #expect(confirmed.first?.usccCheckConfirmed == true && confirmed.first?.type == .enterprise && confirmed.first?.specialTrade == nil)
            #expect(confirmed.first?.industry?.section == .F)
            let hotel = try #require(try await svc.organizations(try OrganizationService.SearchInput(legalRepresentativeIdNumber: "530422198506150023", type: .individualBusiness).query(), visible: .everything).0.first)
            #expect(hotel.keyUnit && hotel.specialTrade == .hotel && hotel.licences == [.init(kind: .specialTradePermit, number: "澄公特旅字001号")])
            #expect(hotel.legalRepresentative.phone?.e164 == "+8613700000002")

            let again = try await Self.importOrganizations(app, url)
            #expect(again.imported == 0 && again.unchanged == 3 && again.flagged.map(\.line) == [8] && again.rejected.count == 3, "\(again.summary)")
            #expect(try await tableCount(app, "actual_organizations") == 2)
            // A dry run of the same file changes nothing either.
            let dry = try await Self.importOrganizations(app, url, dryRun: true)
            #expect(dry.imported == 0 && dry.unchanged == 3)
        }
    }

    @Test("organizations: English headers and an address id; a dry run on an empty database writes nothing")
    func organizationsEnglish() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let address = try await PopulationService(app.fengqiao).createAddress(
                .init(street: "东街", doorplate: "8号", building: "2", unit: "1", floor: "3", room: "301", gridId: t.gridA.id), actor: .commandLine(), visible: .everything)
            let text = "USCC,Name,Type,Industry section,Legal representative,Key unit,Address id\r\n"
                + "91512081MA62K0260E,澄江印刷厂,enterprise,C,赵六,no,\(idText(address.id))\r\n"
                + "91350100M000100Y43,仪凤旅馆,individualBusiness,H,王五,yes,\(idText(address.id))\r\n"
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let dry = try await Self.importOrganizations(app, url, dryRun: true)
            #expect(dry.imported == 2 && dry.rejected.isEmpty, "\(dry.rejected)")
            #expect(try await tableCount(app, "actual_organizations") == 0)
            let r = try await Self.importOrganizations(app, url)
            #expect(r.imported == 2 && r.rejected.isEmpty && r.addressesCreated == 0)
            let counts = try await app.fengqiao.recordCounts(visible: .everything)
            #expect(counts[t.gridA.id]?.organizations.keyUnits == 1 && counts[t.gridA.id]?.organizations.count(.enterprise) == 1)
        }
    }

    @Test("the house and organization templates: every Chinese and English header maps to its own field")
    func templates() throws {
        for template in [PopulationImportService.houseTemplate, PopulationImportService.organizationTemplate] {
            for language in [ImportTemplate.Language.chinese, .english] {
                let m = try template.match(header: template.headerRow(language))
                #expect(m.columns.count == template.fields.count, "\(template.name) \(language)")
                #expect(m.unknownColumns.isEmpty)
            }
            #expect(String(decoding: template.csvData(), as: UTF8.self).hasPrefix("\u{FEFF}"))
        }
    }
}
