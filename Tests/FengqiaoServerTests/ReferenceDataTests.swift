import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing

@Suite("shipped reference data")
struct ReferenceDataTests {
    @Test("the historic code list ships with the server and knows every 澄江 code")
    func historicList() throws {
        let codes = try ReferenceData.historicCountyCodes
        #expect(codes.count > 7_000)
        for code in ["530481", "530422", "532423", "110105", "440524"] {
            #expect(codes.contains(code), "\(code) missing")
        }
        #expect(!codes.contains("530499"))
        // The old 澄江县 code 530422 (1997–2019) passes without an unknown-code warning.
        let today = try CalendarDate(year: 2025, month: 6, day: 1)
        let checked = try CitizenIDNumber.validate("530422198506150023", today: today, history: codes)
        #expect(checked.warnings.isEmpty)
        // A code that never existed is still only a warning.
        let first17 = "53049919850615002"
        let made = first17 + String(try #require(CitizenIDNumber.checkCharacter(forFirst17: first17)))
        let unknown = try CitizenIDNumber.validate(made, today: today, history: codes)
        #expect(unknown.warnings == [.unknownAddressCode(field: "idNumber", code: "530499")])
    }

    @Test("the shipped list parses as a historic import with no rejected line")
    func historicImportable() throws {
        let text = try String(contentsOf: ReferenceData.historicCountyCodesURL, encoding: .utf8)
        let r = DivisionFileParser.parseHistoric(text)
        #expect(r.rejections.isEmpty)
        #expect(r.records.count == (try ReferenceData.historicCountyCodes).count)
    }
}
