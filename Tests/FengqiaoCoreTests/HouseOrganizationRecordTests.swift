import FengqiaoCore
import Foundation
import Testing

/// 实有房屋 and 实有单位 validation (domain spec §3.1, §5.3, §5.4).
@Suite("actual houses and organisations")
struct HouseOrganizationRecordTests {
    let today = CalendarDate(yyyymmdd: "20261129")!
    let grid = UUID()
    let address = UUID()
    let history = HistoricDivisionCodes.builtIn

    func house(_ occupancy: ActualHouse.Occupancy = .rented) -> ActualHouse.Input {
        var i = ActualHouse.Input(houseCode: " h-301 ", addressId: address, use: .residential, area: 85.5, ownerName: "张三", ownerIdDocType: .residentIdCard,
                                  ownerIdNumber: "530481199001010011", ownerPhone: "138 0013 8000", occupancy: occupancy)
        if occupancy == .rented {
            i.rentalPurpose = .living
            i.tenants = [.init(name: "李四", idDocType: .residentIdCard, idNumber: "53048120150720004x", phone: "13900000001"),
                         .init(name: "Tom", idDocType: .hkMacaoMtp, idNumber: "h12345678")]
            i.leaseStart = "2026-01-01"
            i.leaseEnd = "2026-12-31"
        }
        return i
    }

    func organization(_ uscc: String = "91350100M000100Y43") -> ActualOrganization.Input {
        ActualOrganization.Input(uscc: uscc, name: "仪凤旅馆", type: .individualBusiness, industryCode: "6110", addressId: address,
                                 legalRepresentativeName: "王五", legalRepresentativeIdDocType: .residentIdCard,
                                 legalRepresentativeIdNumber: "530422198506150023", legalRepresentativePhone: "0877-6912345",
                                 securityContactName: "赵六", securityContactPhone: "13700000002", employeeCount: 3, keyUnit: true,
                                 specialTrade: .hotel, licences: [.init(kind: .specialTradePermit, number: "澄公特旅字001号")])
    }

    // MARK: Houses

    @Test("a rented house: code upper-cased, numbers normalised, area in hundredths, everything masks")
    func rentedHouse() throws {
        let v = try house().validated(today: today, history: history, gridID: grid)
        #expect(v.warnings.isEmpty)
        let h = v.value
        #expect(h.houseCode == "H-301" && h.gridID == grid && h.addressID == address)
        #expect(h.area?.hundredths == 8550 && h.area?.description == "85.50")
        #expect(h.owner.maskedIDNumber == "530481********0011" && h.owner.maskedPhone == "138****8000")
        let t = try #require(h.tenancy)
        #expect(t.purpose == .living && t.groupRental == false && t.leaseEnd == CalendarDate(yyyymmdd: "20261231"))
        #expect(t.tenants.map(\.idNumber) == ["53048120150720004X", "H12345678"])
        #expect(t.tenants.map(\.maskedIDNumber) == ["530481********004X", "*****5678"])
        #expect(t.tenants[0].maskedPhone == "139****0001" && t.tenants[1].phone == nil)
        // The input round-trips (the base of a merge patch).
        #expect(try h.input.validated(today: today, history: history, gridID: grid).value.tenancy?.tenants.map(\.idNumber) == t.tenants.map(\.idNumber))
    }

    @Test("rental fields are refused unless the house is rented, each on its own field")
    func rentalFieldsOnlyWhenRented() throws {
        let clean = try house(.selfOccupied).validated(today: today, history: history, gridID: grid).value
        #expect(clean.tenancy == nil && clean.occupancy == .selfOccupied)
        for (mutate, field) in [
            ({ (i: inout ActualHouse.Input) in i.rentalPurpose = .storage }, "rentalPurpose"),
            ({ (i: inout ActualHouse.Input) in i.tenants = [.init(name: "李四", idDocType: .residentIdCard, idNumber: "530481199001010011")] }, "tenants"),
            ({ (i: inout ActualHouse.Input) in i.leaseStart = "2026-01-01" }, "leaseStart"),
            ({ (i: inout ActualHouse.Input) in i.leaseEnd = "2026-01-01" }, "leaseEnd"),
            ({ (i: inout ActualHouse.Input) in i.groupRental = true }, "groupRental"),
        ] as [((inout ActualHouse.Input) -> Void, String)] {
            var i = house(.vacant)
            mutate(&i)
            #expect(invalidFieldName { _ = try i.validated(today: today, history: history, gridID: grid) } == field)
        }
        // Empty tenants and groupRental false are not rental data.
        var empty = house(.borrowed)
        empty.tenants = []
        empty.groupRental = false
        #expect(try empty.validated(today: today, history: history, gridID: grid).value.tenancy == nil)
    }

    @Test("bad house values name their field")
    func houseErrors() throws {
        for (mutate, field) in [
            ({ (i: inout ActualHouse.Input) in i.houseCode = "  " }, "houseCode"),
            ({ (i: inout ActualHouse.Input) in i.houseCode = "A 1" }, "houseCode"),
            ({ (i: inout ActualHouse.Input) in i.use = nil }, "use"),
            ({ (i: inout ActualHouse.Input) in i.area = 85.555 }, "area"),
            ({ (i: inout ActualHouse.Input) in i.area = 0 }, "area"),
            ({ (i: inout ActualHouse.Input) in i.area = -3 }, "area"),
            ({ (i: inout ActualHouse.Input) in i.ownershipCertificateNo = "澄房字123" }, "ownershipCertificateType"),
            ({ (i: inout ActualHouse.Input) in i.ownerName = nil }, "ownerName"),
            ({ (i: inout ActualHouse.Input) in i.ownerIdNumber = "530481199001010012" }, "ownerIdNumber"),
            ({ (i: inout ActualHouse.Input) in i.ownerIdDocType = nil }, "ownerIdDocType"),
            ({ (i: inout ActualHouse.Input) in i.ownerIdNumber = nil }, "ownerIdNumber"),
            ({ (i: inout ActualHouse.Input) in i.ownerPhone = "12345" }, "ownerPhone"),
            ({ (i: inout ActualHouse.Input) in i.occupancy = nil }, "occupancy"),
            ({ (i: inout ActualHouse.Input) in i.rentalPurpose = nil }, "rentalPurpose"),
            ({ (i: inout ActualHouse.Input) in i.leaseStart = nil }, "leaseStart"),
            ({ (i: inout ActualHouse.Input) in i.leaseStart = "2026-02-30" }, "leaseStart"),
            ({ (i: inout ActualHouse.Input) in i.leaseEnd = "2025-12-31" }, "leaseEnd"),
            ({ (i: inout ActualHouse.Input) in i.tenants = [] }, "tenants"),
            ({ (i: inout ActualHouse.Input) in i.tenants?[1].idNumber = "X1" }, "tenants[1].idNumber"),
            ({ (i: inout ActualHouse.Input) in i.tenants?[0].name = "" }, "tenants[0].name"),
            ({ (i: inout ActualHouse.Input) in i.tenants?[1].idDocType = nil }, "tenants[1].idDocType"),
            ({ (i: inout ActualHouse.Input) in i.tenants?[0].phone = "1" }, "tenants[0].phone"),
            ({ (i: inout ActualHouse.Input) in i.tenants?[1].idNumber = "53048120150720004X"; i.tenants?[1].idDocType = .residentIdCard }, "tenants[1].idNumber"),
        ] as [((inout ActualHouse.Input) -> Void, String)] {
            var i = house()
            mutate(&i)
            #expect(invalidFieldName { _ = try i.validated(today: today, history: history, gridID: grid) } == field, "expected \(field)")
        }
        // leaseEnd equal to leaseStart is a one-day lease.
        var oneDay = house()
        oneDay.leaseEnd = "2026-01-01"
        #expect(try oneDay.validated(today: today, history: history, gridID: grid).value.tenancy?.leaseEnd == CalendarDate(yyyymmdd: "20260101"))
    }

    @Test("an owner ID number with an unknown address code is a warning, not an error")
    func houseWarning() throws {
        var i = house(.selfOccupied)
        i.ownerIdNumber = "999999199001010059"
        let v = try i.validated(today: today, history: history, gridID: grid)
        #expect(v.warnings.map(\.field) == ["ownerIdNumber"])
        #expect(!v.requiresConfirmation)
    }

    @Test("floor areas: 2 decimals, text forms, bounds")
    func floorArea() throws {
        #expect(try FloorArea(squareMetres: 0.01).hundredths == 1)
        #expect(try FloorArea(squareMetres: 120).description == "120.00")
        #expect(try FloorArea(squareMetres: 0.1 + 0.2).hundredths == 30)
        #expect(try FloorArea(text: "85.5").hundredths == 8550)
        #expect(try FloorArea(text: "85.05㎡").hundredths == 8505)
        #expect(try FloorArea(text: "1000000").hundredths == 100_000_000)
        for bad in ["85.555", "abc", "-1", "0", "1000000.01", "1e3", ".5"] {
            #expect(invalidFieldName { _ = try FloorArea(text: bad) } == "area", "\(bad)")
        }
        #expect(invalidFieldName { _ = try FloorArea(squareMetres: .nan) } == "area")
        #expect(invalidFieldName { _ = try FloorArea(squareMetres: 1_000_000.01) } == "area")
    }

    // MARK: Organisations

    @Test("GB 32100 vectors (§5.3): valid codes pass clean, a check mismatch needs confirmation")
    func usccVectors() throws {
        for code in ["91350100M000100Y43", "91512081MA62K0260E", "91350100m000100y43"] {
            let v = try organization(code).validated(today: today, history: history, gridID: grid)
            #expect(v.warnings.isEmpty, "\(code)")
            #expect(v.value.uscc.value == code.uppercased() && !v.value.usccCheckConfirmed)
        }
        // 91350100M000100Y4Z: the check character should be 3.
        let reason = invalidFieldReason { _ = try organization("91350100M000100Y4Z").validated(today: today, history: history, gridID: grid) }
        #expect(reason?.contains("expected 3") == true && reason?.contains("confirmWarnings") == true, "\(reason ?? "")")
        #expect(invalidFieldName { _ = try organization("91350100M000100Y4Z").validated(today: today, history: history, gridID: grid) } == "uscc")
        var confirmed = organization("91350100M000100Y4Z")
        confirmed.confirmWarnings = true
        let v = try confirmed.validated(today: today, history: history, gridID: grid)
        #expect(v.value.usccCheckConfirmed)
        #expect(v.warnings == [.checkCharacterMismatch(field: "uscc", expected: "3", found: "Z")])
        // Structural errors are never confirmable.
        for bad in ["91350100M000100Y4", "91350100M000100I43", ""] {
            var i = organization(bad)
            i.confirmWarnings = true
            #expect(invalidFieldName { _ = try i.validated(today: today, history: history, gridID: grid) } == "uscc", "\(bad)")
        }
    }

    @Test("an organisation: industry from the code, contacts masked, licences kept")
    func organizationFields() throws {
        let o = try organization().validated(today: today, history: history, gridID: grid).value
        #expect(o.industry?.section == .H && o.industry?.code == "6110" && o.industry?.section.chineseName == "住宿和餐饮业")
        #expect(o.legalRepresentative.maskedIDNumber == "530422********0023")
        #expect(o.legalRepresentative.phone?.e164 == "+868776912345")
        #expect(o.securityContact?.maskedPhone == "137****0002")
        #expect(o.keyUnit && o.specialTrade == .hotel && o.status == .active && o.employeeCount == 3)
        #expect(o.licences == [.init(kind: .specialTradePermit, number: "澄公特旅字001号")])
        #expect(try o.input.validated(today: today, history: history, gridID: grid).value.uscc == o.uscc)
    }

    @Test("bad organisation values name their field")
    func organizationErrors() throws {
        for (mutate, field) in [
            ({ (i: inout ActualOrganization.Input) in i.name = " " }, "name"),
            ({ (i: inout ActualOrganization.Input) in i.type = nil }, "type"),
            ({ (i: inout ActualOrganization.Input) in i.addressId = nil }, "addressId"),
            ({ (i: inout ActualOrganization.Input) in i.industrySection = "Z" }, "industrySection"),
            ({ (i: inout ActualOrganization.Input) in i.industrySection = "C" }, "industryCode"),
            ({ (i: inout ActualOrganization.Input) in i.industryCode = "98" }, "industryCode"),
            ({ (i: inout ActualOrganization.Input) in i.industryCode = "6" }, "industryCode"),
            ({ (i: inout ActualOrganization.Input) in i.legalRepresentativeName = nil }, "legalRepresentativeName"),
            ({ (i: inout ActualOrganization.Input) in i.legalRepresentativeIdNumber = "530422198506150024" }, "legalRepresentativeIdNumber"),
            ({ (i: inout ActualOrganization.Input) in i.legalRepresentativeIdDocType = nil }, "legalRepresentativeIdDocType"),
            ({ (i: inout ActualOrganization.Input) in i.legalRepresentativePhone = "999" }, "legalRepresentativePhone"),
            ({ (i: inout ActualOrganization.Input) in i.securityContactName = nil }, "securityContactName"),
            ({ (i: inout ActualOrganization.Input) in i.securityContactPhone = "2" }, "securityContactPhone"),
            ({ (i: inout ActualOrganization.Input) in i.employeeCount = -1 }, "employeeCount"),
            ({ (i: inout ActualOrganization.Input) in i.licences = [.init(kind: nil, number: "1")] }, "licences[0].kind"),
            ({ (i: inout ActualOrganization.Input) in i.licences = [.init(kind: .fireSafety, number: " ")] }, "licences[0].number"),
        ] as [((inout ActualOrganization.Input) -> Void, String)] {
            var i = organization()
            mutate(&i)
            #expect(invalidFieldName { _ = try i.validated(today: today, history: history, gridID: grid) } == field, "expected \(field)")
        }
        var zero = organization()
        zero.employeeCount = 0
        zero.industryCode = nil
        zero.industrySection = "h"
        let o = try zero.validated(today: today, history: history, gridID: grid).value
        let sectionOnly = try IndustryClassification(section: "H", code: nil)
        #expect(o.employeeCount == 0 && o.industry == sectionOnly)
    }

    @Test("GB/T 4754 sections cover divisions 01–97 without gaps or overlaps")
    func industrySections() throws {
        var next = 1
        for s in IndustryClassification.Section.allCases {
            #expect(s.divisions.lowerBound == next, "\(s)")
            next = s.divisions.upperBound + 1
        }
        #expect(next == 98)
        #expect(IndustryClassification.Section.of(division: 1) == .A && IndustryClassification.Section.of(division: 12) == .B)
        #expect(try IndustryClassification(section: nil, code: "0511").section == .A)
        #expect(throws: DomainError.self) { try IndustryClassification(section: nil, code: nil) }
    }

    @Test("every code has a Chinese label")
    func labels() {
        #expect(ActualHouse.Occupancy.allCases.map(\.chineseName) == ["自住", "出租", "空置", "借住", "单位用房"])
        #expect(ActualHouse.RentalPurpose.allCases.map(\.chineseName) == ["居住", "生产", "经营", "仓储", "混合"])
        #expect(ActualHouse.Use.allCases.map(\.chineseName) == ["住宅", "商业", "工业", "办公", "混合", "其他"])
        #expect(ActualOrganization.OrganizationType.allCases.map(\.chineseName) == ["机关", "事业单位", "企业", "个体工商户", "社会组织", "其他"])
        #expect(ActualOrganization.SpecialTrade.allCases.map(\.chineseName) == ["旅馆业", "印刷业", "旧货业", "开锁业", "其他特种行业"])
        #expect(ActualHouse.OwnershipCertificateType.allCases.allSatisfy { !$0.chineseName.isEmpty })
        #expect(ActualOrganization.LicenceKind.allCases.allSatisfy { !$0.chineseName.isEmpty })
    }
}
