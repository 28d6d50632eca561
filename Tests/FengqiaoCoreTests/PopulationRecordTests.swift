import FengqiaoCore
import Foundation
import Testing

@Suite("standard addresses and actual residents")
struct PopulationRecordTests {
    let today = CalendarDate(yyyymmdd: "20261129")!
    let grid = UUID()
    let address = UUID()

    func input(_ number: String = "530481199001010011", docType: IdentityDocumentType = .residentIdCard) -> ActualResident.Input {
        ActualResident.Input(populationType: .migrant, idDocType: docType, idNumber: number, name: " 李四 ", residenceAddressId: address,
                             residenceReason: .work, housingRelation: .tenant, phone: "138-0013-8000")
    }

    @Test("an address is formatted in the police collection order")
    func formatted() throws {
        let a = try StandardAddress.Input(divisionCode12: "530481001001", street: "凤麓路", doorplate: "1", estateName: "阳光小区", building: "1",
                                          unit: "2", floor: "3", room: "301", gridId: grid).validated()
        #expect(a.formatted() == "凤麓路1号阳光小区1栋2单元3层301室")
        #expect(a.formatted(divisionName: "澄江市凤麓街道") == "澄江市凤麓街道凤麓路1号阳光小区1栋2单元3层301室")
        let b = StandardAddress(street: "东街", doorplate: "5号", building: "A座", unit: "1单元", floor: "2层", room: "201室", gridID: grid)
        #expect(b.formatted() == "东街5号A座1单元2层201室")
        #expect(throws: DomainError.invalidField(field: "divisionCode12", reason: "must be a 12-digit village-level division code")) {
            try StandardAddress.Input(divisionCode12: "5304", street: "a", doorplate: "1", building: "1", unit: "1", floor: "1", room: "1", gridId: grid).validated()
        }
        #expect(throws: DomainError.invalidField(field: "room", reason: "is required")) {
            try StandardAddress.Input(street: "a", doorplate: "1", building: "1", unit: "1", floor: "1", gridId: grid).validated()
        }
    }

    @Test("sex and birth date come from a 公民身份号码; the phone is normalised; the values mask")
    func derived() throws {
        let v = try input().validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid)
        #expect(v.warnings.isEmpty)
        let r = v.value
        #expect(r.sex == .male && r.birthDate == CalendarDate(yyyymmdd: "19900101")!)
        #expect(r.name == "李四" && r.gridID == grid && r.registeredAt == today)
        #expect(r.phone?.e164 == "+8613800138000")
        #expect(r.maskedIDNumber == "530481********0011" && r.maskedPhone == "138****8000")
        #expect(r.age(on: today) == 36)
    }

    @Test("contradictions and bad values name their field")
    func errors() throws {
        var i = input()
        i.sex = .female
        #expect(throws: DomainError.self) { try i.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) }
        #expect(invalidFieldName { _ = try i.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) } == "sex")
        for (mutate, field) in [
            ({ (i: inout ActualResident.Input) in i.birthDate = "1991-01-01" }, "birthDate"),
            ({ (i: inout ActualResident.Input) in i.idNumber = "530481199001010012" }, "idNumber"),
            ({ (i: inout ActualResident.Input) in i.phone = "123" }, "phone"),
            ({ (i: inout ActualResident.Input) in i.registeredAt = "2026-02-29" }, "registeredAt"),
            ({ (i: inout ActualResident.Input) in i.registeredAt = "2025-01-01"; i.deregisteredAt = "2026-01-01" }, "deregistrationReason"),
            ({ (i: inout ActualResident.Input) in i.ethnicity = "穿青人" }, "ethnicity"),
            ({ (i: inout ActualResident.Input) in i.housingRelation = nil }, "housingRelation"),
        ] as [((inout ActualResident.Input) -> Void, String)] {
            var j = input()
            mutate(&j)
            #expect(invalidFieldName { _ = try j.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) } == field)
        }
    }

    @Test("other document types need sex and birth date; unknown address codes only warn")
    func otherTypes() throws {
        var i = input("H12345678", docType: .hkMacaoMtp)
        #expect(invalidFieldName { _ = try i.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid) } == "birthDate")
        i.birthDate = "1980-05-05"
        i.sex = .female
        let r = try i.validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid).value
        #expect(r.idNumber == "H12345678" && r.maskedIDNumber == "*****5678")
        let w = try input("999999199001010059").validated(today: today, history: HistoricDivisionCodes.builtIn, gridID: grid).warnings
        #expect(w == [.unknownAddressCode(field: "idNumber", code: "999999")])
    }
}
