import FengqiaoCore
import Foundation
import Testing

@Suite("validation reasons in Chinese and English; every bad field; 民族 by code or name")
struct ValidationReasonTests {
    let today = CalendarDate(yyyymmdd: "20261129")!
    let grid = UUID()

    /// One value of every case. `exhaustive` switches over a reason without `default`, so a new
    /// case does not compile until it is listed here (and so checked below).
    static let samples: [ValidationReason] = [
        .required, .requiredWith("deregisteredAt"), .tooLong(max: 50, has: 51), .controlCharacters, .visibleCharactersOnly,
        .notOneOf("x", choices: ["户籍", "流动"]), .notYesNo("x"), .notWholeNumber("x"), .outOfRange("0…10"), .notAnID,
        .notADate("x"), .yearOutOfRange(0), .monthOutOfRange(13), .dayOutOfRange(day: 30, days: 28, yearMonth: "2023-02"),
        .afterToday("2027-01-01", today: "2026-11-29"), .beforeBirthDate("1980-01-01", birth: "1990-01-01"),
        .beforeRegistrationDate("2020-01-01", registered: "2021-01-01"), .beforeLeaseStart("2020-01-01", start: "2021-01-01"),
        .idNumberLength(17), .idLegacyDigitsOnly(position: 3, character: "A"), .idDigit(position: 2, character: "A"), .idLastCharacter("Y"),
        .idBirthDateInvalid("19900230"), .idBirthYearBefore1800(1799), .idBirthDateAfterToday("2030-01-01", today: "2026-11-29"),
        .checkCharacterMismatch(found: "1", expected: "2"), .birthDateContradictsIDNumber(given: "1991-01-01", derived: "1990-01-01"),
        .sexContradictsIDNumber(given: .female, derived: .male), .excelScientificNotation, .notDocumentType("x"), .hkMacaoPermitNumber,
        .taiwanPermitNumber, .documentNumberLength(33), .phoneCharacters, .phoneEmpty, .phoneInternational, .phoneMobile, .phoneNoCountryCode,
        .phoneNotMainland, .unknownEthnicity("穿青人"), .divisionCode12, .usccLength(17), .usccCharacter(position: 1, character: "I"),
        .usccLastCharacter("!"), .usccCheckUnconfirmed(found: "1", expected: "2"), .usccCheckUnconfirmedImport(found: "1", expected: "2"),
        .industrySection, .industryCodeShape, .industryDivisionUnknown("99"), .industryDivisionSection(division: "01", owner: "A", given: "B"),
        .industryMissing, .noSuchAddress, .noSuchGrid("G1"), .addressRetired, .areaNotPositive, .areaTooLarge, .areaNotANumber, .areaDecimals,
        .areaText("x"), .tenantRequired, .tooManyTenants(51), .documentNumberTwice, .onlyWhenRented("vacant"), .tooManyLicences(11),
        .tenantListLength(found: 1, what: "numbers", names: 2), .tenant(1, .required),
    ]

    static func exhaustive(_ r: ValidationReason) -> Bool {
        switch r {
        case .required, .requiredWith, .tooLong, .controlCharacters, .visibleCharactersOnly, .notOneOf, .notYesNo, .notWholeNumber, .outOfRange,
             .notAnID, .notADate, .yearOutOfRange, .monthOutOfRange, .dayOutOfRange, .afterToday, .beforeBirthDate, .beforeRegistrationDate,
             .beforeLeaseStart, .idNumberLength, .idLegacyDigitsOnly, .idDigit, .idLastCharacter, .idBirthDateInvalid, .idBirthYearBefore1800,
             .idBirthDateAfterToday, .checkCharacterMismatch, .birthDateContradictsIDNumber, .sexContradictsIDNumber, .excelScientificNotation,
             .notDocumentType, .hkMacaoPermitNumber, .taiwanPermitNumber, .documentNumberLength, .phoneCharacters, .phoneEmpty,
             .phoneInternational, .phoneMobile, .phoneNoCountryCode, .phoneNotMainland, .unknownEthnicity, .divisionCode12, .usccLength,
             .usccCharacter, .usccLastCharacter, .usccCheckUnconfirmed, .usccCheckUnconfirmedImport, .industrySection, .industryCodeShape,
             .industryDivisionUnknown, .industryDivisionSection, .industryMissing, .noSuchAddress, .noSuchGrid, .addressRetired,
             .areaNotPositive, .areaTooLarge, .areaNotANumber, .areaDecimals, .areaText, .tenantRequired, .tooManyTenants,
             .documentNumberTwice, .onlyWhenRented, .tooManyLicences, .tenantListLength, .tenant:
            true
        case .text:
            false
        }
    }

    static func hasHan(_ s: String) -> Bool { s.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } }

    @Test("every catalogued reason has a Chinese text of its own and a distinct English one")
    func catalogueComplete() {
        #expect(Self.samples.allSatisfy(Self.exhaustive))
        for r in Self.samples {
            #expect(r.isCatalogued)
            #expect(!r.english.isEmpty && Self.hasHan(r.chinese) && r.chinese != r.english, "\(r.english) / \(r.chinese)")
        }
        // No two cases share an English text (equality is by the English text).
        #expect(Set(Self.samples.map(\.english)).count == Self.samples.count)
        // Field names inside a Chinese reason are Chinese labels.
        #expect(ValidationReason.requiredWith("deregisteredAt").chinese == "填写「注销日期」时必填")
        #expect(ValidationReason.tenant(2, .phoneMobile).chinese.hasPrefix("第 2 个承租人："))
        #expect(ValidationReason.requiredWith("tenants[1].idDocType").chinese == "填写「承租人证件类型」时必填")
        #expect(ValidationReason.requiredWith("tenants[1].").chinese == "填写「tenants[1].」时必填")
    }

    @Test("a string literal is an English-only reason; equality and the API text are the English one")
    func literals() {
        let e = DomainError.invalidField(field: "name", reason: .required)
        #expect(e == .invalidField(field: "name", reason: "is required"))
        #expect(e.description == "name: is required")
        let t: ValidationReason = "something \(1) else"
        #expect(!t.isCatalogued && t.chinese == "something 1 else" && t.english == t.chinese)
    }

    @Test("民族: GB/T 3304 code, code without the zero, name, name without 族; unknown values refused")
    func ethnicity() throws {
        for raw in ["01", "1", "汉族", "汉", " 汉族 "] { #expect(Ethnicity.code(raw) == "01", "\(raw)") }
        #expect(Ethnicity.code("蒙古") == "02" && Ethnicity.code("维吾尔族") == "05" && Ethnicity.code("基诺族") == "56")
        #expect(Ethnicity.code("外国血统中国籍人士") == "98" && Ethnicity.code("97") == "97")
        #expect(Ethnicity.table.count == 58 && Set(Ethnicity.table.map(\.code)).count == 58)
        for raw in ["穿青人", "99", "00", "57", "火星族", "汉人"] { #expect(Ethnicity.code(raw) == nil, "\(raw)") }
        for raw in ["01", "汉族", "汉"] {
            let v = try resident { $0.ethnicity = raw }.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
            #expect(v.value.ethnicity == "01")
        }
        #expect(throws: DomainError.invalidField(field: "ethnicity", reason: .unknownEthnicity("穿青人"))) {
            try resident { $0.ethnicity = "穿青人" }.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
        }
    }

    func resident(_ change: (inout ActualResident.Input) -> Void = { _ in }) -> ActualResident.Input {
        var i = ActualResident.Input(populationType: .migrant, idDocType: .residentIdCard, idNumber: "530481199001010011", name: "李四",
                                     residenceAddressId: UUID(), residenceReason: .work, housingRelation: .tenant, phone: "13800138000")
        change(&i)
        return i
    }

    func fields(_ body: () throws(FieldErrors) -> Void) -> [String] {
        do { try body(); return [] } catch {
            return error.errors.compactMap { if case .invalidField(let f, _) = $0 { f } else { nil } }
        }
    }

    @Test("a resident with three bad fields reports all three; validated() still answers the first")
    func everyField() throws {
        let bad = resident {
            $0.idNumber = "530481199001010012"  // wrong check character
            $0.phone = "123"
            $0.registeredAt = "2026-02-30"
        }
        #expect(fields { () throws(FieldErrors) in _ = try bad.validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) }
            == ["idNumber", "phone", "registeredAt"])
        do {
            _ = try bad.validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
            Issue.record("must be refused")
        } catch {
            #expect(error.errors.map { if case .invalidField(_, let r) = $0 { r.chinese } else { "" } }
                == ["校验码 2 不正确，应为 1", "手机号码应为 1 开头、第二位为 3–9 的 11 位数字", "「2026-02-30」不是有效日期（格式 YYYY-MM-DD）"])
        }
        #expect(throws: DomainError.invalidField(field: "idNumber", reason: "check character 2 does not match; expected 1")) {
            try bad.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
        }
        // A bad ID number does not make birth date and sex "required" (they would come from it).
        #expect(fields { () throws(FieldErrors) in
            _ = try resident { $0.idNumber = "12345" }.validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
        } == ["idNumber"])
        // Other document types do need them.
        #expect(fields { () throws(FieldErrors) in
            _ = try resident { $0.idDocType = .hkMacaoMtp; $0.idNumber = "H12345678"; $0.name = nil }
                .validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
        } == ["name", "birthDate", "sex"])
        // A clean input passes both ways.
        #expect(try resident().validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid).value.idNumber == "530481199001010011")
    }

    @Test("a house reports every bad field; validated() answers the first")
    func houseFields() {
        var h = ActualHouse.Input()
        h.houseCode = "A 1"
        h.addressId = UUID()
        h.use = .residential
        h.ownerName = "李梅"
        h.ownerPhone = "123"
        h.occupancy = .rented
        h.rentalPurpose = .living
        h.leaseStart = "2026-03-01"
        h.leaseEnd = "2026-01-01"
        h.tenants = [.init(name: "甲", idDocType: .residentIdCard, idNumber: "530481199001010011", phone: "1"),
                     .init(name: "乙", idDocType: .residentIdCard, idNumber: "530481199001010011")]
        #expect(fields { () throws(FieldErrors) in _ = try h.validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) }
            == ["houseCode", "ownerPhone", "leaseEnd", "tenants[0].phone", "tenants[1].idNumber"])
        #expect(throws: DomainError.invalidField(field: "houseCode", reason: .visibleCharactersOnly)) {
            try h.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
        }
        h.occupancy = .vacant
        h.houseCode = "A1"
        h.ownerPhone = nil
        #expect(fields { () throws(FieldErrors) in _ = try h.validatedCollectingAll(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) }
            == ["rentalPurpose", "tenants", "leaseStart", "leaseEnd"])
    }

    @Test("an address reports every bad field in element order")
    func addressFields() {
        let a = StandardAddress.Input(divisionCode12: "53", street: " ", doorplate: "1", building: "1", unit: String(repeating: "单", count: 51), floor: "1")
        #expect(fields { () throws(FieldErrors) in _ = try a.validatedCollectingAll() } == ["gridId", "divisionCode12", "street", "unit", "room"])
        #expect(throws: DomainError.invalidField(field: "gridId", reason: "is required")) { try a.validated() }
    }
}
