import Foundation
import Testing
@testable import FengqiaoCore

/// The reference day of these tests; `today` is always injected.
private let today = CalendarDate.fixture(2025, 6, 1)

@Suite("公民身份号码 (GB 11643-1999), domain spec §5.1")
struct CitizenIDNumberTests {
    // MARK: §5.1 test vectors

    @Test("valid vectors of §5.1 with sex and birth date", arguments: [
        ("11010519491231002X", Sex.female, "1949-12-31"),
        ("440524188001010014", .male, "1880-01-01"),
        ("530481199001010011", .male, "1990-01-01"),
        ("53048120150720004X", .female, "2015-07-20"),
        ("530422198506150023", .female, "1985-06-15"),
        ("530481200002290014", .male, "2000-02-29"),
    ])
    func validVectors(_ v: (String, Sex, String)) throws {
        let id = try CitizenIDNumber(v.0, today: today)
        #expect(id.value == v.0)
        #expect(id.legacy15 == false)
        #expect(id.sex == v.1)
        #expect(id.birthDate.description == v.2)
        #expect(id.description == v.0)
        #expect(id.checkCharacter == v.0.last!)
        #expect(id.addressCode == String(v.0.prefix(6)))
        #expect(id.sequenceCode == String(Array(v.0)[14..<17]))
        // Every §5.1 vector's address code is in the built-in history: no warning.
        let checked = try CitizenIDNumber.validate(v.0, today: today, history: HistoricDivisionCodes.builtIn)
        #expect(checked.value == id)
        #expect(checked.warnings.isEmpty)
        #expect(!checked.requiresConfirmation)
    }

    @Test("the two examples printed in the standard: S = 167 → X and S = 195 → 4")
    func standardExamples() throws {
        #expect(CitizenIDNumber.checkCharacter(forFirst17: "11010519491231002") == "X")
        #expect(CitizenIDNumber.checkCharacter(forFirst17: "44052418800101001") == "4")
        let w = CitizenIDNumber.weights
        func weightedSum(_ s: String) -> Int {
            var sum = 0
            for (c, weight) in zip(s, w) { sum += c.wholeNumberValue! * weight }
            return sum
        }
        #expect(weightedSum("11010519491231002") == 167)
        #expect(weightedSum("44052418800101001") == 195)
        #expect(w == (0..<17).map { i in (0..<(17 - i)).reduce(1) { acc, _ in acc * 2 } % 11 })
    }

    @Test("the old 澄江县 code 530422 (and 532423) is accepted without a warning")
    func oldChengjiangCodes() throws {
        let a = try CitizenIDNumber.validate("530422198506150023", today: today, history: HistoricDivisionCodes.builtIn)
        #expect(a.warnings.isEmpty)
        let b = try CitizenIDNumber.validate("532423196001010032", today: today, history: HistoricDivisionCodes.builtIn)
        #expect(b.warnings.isEmpty)
        #expect(b.value.sex == .male)
    }

    @Test("lowercase x normalises to X")
    func lowercaseX() throws {
        let id = try CitizenIDNumber("53048120150720004x", today: today)
        #expect(id.value == "53048120150720004X")
        #expect(id == (try CitizenIDNumber("53048120150720004X", today: today)))
        #expect(try CitizenIDNumber("11010519491231002x", today: today).value == "11010519491231002X")
    }

    @Test("surrounding white space is trimmed")
    func trimmed() throws {
        #expect(try CitizenIDNumber("  530481199001010011\n", today: today).value == "530481199001010011")
        #expect(try CitizenIDNumber("\t53048120150720004x ", today: today).value == "53048120150720004X")
    }

    @Test("110105194912310021: wrong check character, the expected one is named")
    func wrongCheck() {
        #expect(throws: DomainError.invalidField(field: "idNumber", reason: "check character 1 does not match; expected X")) {
            _ = try CitizenIDNumber("110105194912310021", today: today)
        }
    }

    @Test("530481199002300010: 30 February is refused although the check character is right")
    func february30() {
        #expect(CitizenIDNumber.checkCharacter(forFirst17: "53048119900230001") == "0")
        #expect(throws: DomainError.invalidField(field: "idNumber", reason: "birth date 19900230 is not a calendar date")) {
            _ = try CitizenIDNumber("530481199002300010", today: today)
        }
    }

    @Test("530481190002290018: 1900 is not a leap year although the check character is right")
    func year1900() {
        #expect(CitizenIDNumber.checkCharacter(forFirst17: "53048119000229001") == "8")
        #expect(throws: DomainError.invalidField(field: "idNumber", reason: "birth date 19000229 is not a calendar date")) {
            _ = try CitizenIDNumber("530481190002290018", today: today)
        }
    }

    @Test("53048119900101001: 17 characters is a length error")
    func length17() {
        #expect(throws: DomainError.invalidField(field: "idNumber", reason: "must have 18 characters, or 15 digits for a first-generation number (has 17)")) {
            _ = try CitizenIDNumber("53048119900101001", today: today)
        }
    }

    // MARK: further refusals

    @Test("other lengths are refused", arguments: ["", "5", "53048119900101", "5304811990010100", "5304811990010100111", "53048119900101001122"])
    func otherLengths(_ raw: String) {
        #expect(invalidFieldReason { _ = try CitizenIDNumber(raw, today: today) } == "must have 18 characters, or 15 digits for a first-generation number (has \(raw.count))")
    }

    @Test("characters outside ^\\d{17}[\\dX]$ are refused with their position", arguments: [
        ("5304811990010100X1", "character 17 ('X') must be a digit"),
        ("X30481199001010011", "character 1 ('X') must be a digit"),
        ("53048119900101001Y", "character 18 ('Y') must be a digit or X"),
        ("53048119900101001-", "character 18 ('-') must be a digit or X"),
        ("530481 99001010011", "character 7 (' ') must be a digit"),
        ("５30481199001010011", "character 1 ('５') must be a digit"),
        ("53048119900101001١", "character 18 ('١') must be a digit or X"),
    ])
    func characters(_ v: (String, String)) {
        #expect(invalidFieldReason { _ = try CitizenIDNumber(v.0, today: today) } == v.1)
    }

    @Test("impossible dates are refused even with a right check character", arguments: [
        ("53048120000230001", "20000230"), // 2000 is leap, but not 30 February
        ("53048120010229001", "20010229"),
        ("53048119900431001", "19900431"),
        ("53048119901301001", "19901301"),
        ("53048119900001001", "19900001"),
        ("53048119900100001", "19900100"),
    ])
    func impossibleDates(_ v: (String, String)) {
        let raw = v.0 + String(CitizenIDNumber.checkCharacter(forFirst17: v.0)!)
        #expect(invalidFieldReason { _ = try CitizenIDNumber(raw, today: today) } == "birth date \(v.1) is not a calendar date")
    }

    @Test("the year must be 1800 or later")
    func before1800() throws {
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481179912310017", today: today) } == "birth year 1799 is before 1800")
        #expect(try CitizenIDNumber("530481180001010011", today: today).birthDate == .fixture(1800, 1, 1))
    }

    @Test("a birth date after the injected today is refused; today itself is accepted")
    func future() throws {
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481202506020017", today: today) } == "birth date 2025-06-02 lies after today (2025-06-01)")
        #expect(try CitizenIDNumber("530481202506010011", today: today).birthDate == today)
        #expect(invalidFieldReason { _ = try CitizenIDNumber("53048120150720004X", today: .fixture(2015, 7, 19)) } != nil)
        #expect(try CitizenIDNumber("53048120150720004X", today: .fixture(2015, 7, 20)).age(on: .fixture(2015, 7, 20)) == 0)
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481203001010010", today: today) } == "birth date 2030-01-01 lies after today (2025-06-01)")
    }

    @Test("validation order: length, then characters, then date, then check character")
    func order() {
        // Length before characters.
        #expect(invalidFieldReason { _ = try CitizenIDNumber("5304811990010100A", today: today) }?.hasPrefix("must have 18") == true)
        // Characters before the date.
        #expect(invalidFieldReason { _ = try CitizenIDNumber("53048119900230001A", today: today) } == "character 18 ('A') must be a digit or X")
        // Date before the check character: Feb 30 with a wrong check char reports the date.
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481199002300011", today: today) } == "birth date 19900230 is not a calendar date")
        // Future before the check character.
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481203001010011", today: today) }?.contains("lies after today") == true)
    }

    @Test("errors name the field; a custom field name is used")
    func fieldName() {
        #expect(invalidFieldName { _ = try CitizenIDNumber("110105194912310021", today: today) } == "idNumber")
        #expect(invalidFieldName { _ = try CitizenIDNumber("53048119900101001", today: today, field: "guardianIdNumber") } == "guardianIdNumber")
        #expect(invalidFieldName { _ = try CitizenIDNumber.validate("530481199002300010", today: today, history: HistoricDivisionCodes.builtIn, field: "x") } == "x")
    }

    // MARK: 15-digit first-generation numbers

    @Test("15-digit numbers are upgraded to 18 with legacy15", arguments: [
        ("110105491231002", "11010519491231002X", Sex.female),
        ("530422850101001", "530422198501010013", .male),
    ])
    func legacy(_ v: (String, String, Sex)) throws {
        let id = try CitizenIDNumber(v.0, today: today)
        #expect(id.value == v.1)
        #expect(id.legacy15)
        #expect(id.sex == v.2)
        #expect(CitizenIDNumber.upgradeLegacy15(v.0) == v.1)
        // The same person as the 18-character form.
        let modern = try CitizenIDNumber(v.1, today: today)
        #expect(!modern.legacy15)
        #expect(id == modern)
        #expect(id.hashValue == modern.hashValue)
        #expect(id.birthDate == modern.birthDate)
    }

    @Test("15-digit numbers: dates are checked in the 1900s, characters must be digits")
    func legacyRefused() {
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481000229001", today: today) } == "birth date 19000229 is not a calendar date")
        #expect(invalidFieldReason { _ = try CitizenIDNumber("530481010229001", today: today) } == "birth date 19010229 is not a calendar date")
        #expect(invalidFieldReason { _ = try CitizenIDNumber("53048185010100X", today: today) } == "a 15-digit first-generation number must contain digits only (character 15 is 'X')")
        #expect(CitizenIDNumber.upgradeLegacy15("53048185010100X") == nil)
        #expect(CitizenIDNumber.upgradeLegacy15("5304818501010") == nil)
        // A 15-digit number is 1900s: 1904-02-29 exists.
        #expect((try? CitizenIDNumber("530481040229001", today: today))?.birthDate == .fixture(1904, 2, 29))
    }

    // MARK: address code against the history

    @Test("an unknown address code is a warning, not an error", arguments: [
        "810000199001010019", // HK residence permit (§5.1.3)
        "830000199001010020", // Taiwan residence permit
        "999999199001010016",
    ])
    func unknownAddress(_ raw: String) throws {
        let r = try CitizenIDNumber.validate(raw, today: today, history: HistoricDivisionCodes.builtIn)
        #expect(r.value.value == raw)
        #expect(r.warnings == [.unknownAddressCode(field: "idNumber", code: String(raw.prefix(6)))])
        #expect(!r.requiresConfirmation)
        #expect(r.warnings.first?.field == "idNumber")
    }

    @Test("a loaded history replaces the fallback")
    func customHistory() throws {
        let only = HistoricDivisionCodes(["999999"])
        let id = try CitizenIDNumber("530481199001010011", today: today)
        #expect(id.warnings(history: only) == [.unknownAddressCode(field: "idNumber", code: "530481")])
        #expect(id.warnings(history: only, field: "guestIdNumber").first?.field == "guestIdNumber")
        #expect(try CitizenIDNumber.validate("999999199001010016", today: today, history: only).warnings.isEmpty)
    }

    @Test("residence-permit address codes are recognised (§5.1.3)")
    func residencePermit() throws {
        #expect(try CitizenIDNumber("810000199001010019", today: today).isHKMacaoTaiwanResidencePermit)
        #expect(try CitizenIDNumber("830000199001010020", today: today).isHKMacaoTaiwanResidencePermit)
        #expect(!(try CitizenIDNumber("530481199001010011", today: today).isHKMacaoTaiwanResidencePermit))
    }

    // MARK: derived values

    @Test("age in full years on a given day")
    func age() throws {
        let a = try CitizenIDNumber("11010519491231002X", today: today)
        #expect(a.age(on: .fixture(2025, 12, 30)) == 75)
        #expect(a.age(on: .fixture(2025, 12, 31)) == 76)
        #expect(a.age(on: .fixture(1949, 12, 31)) == 0)
        #expect(a.age(on: .fixture(1950, 12, 30)) == 0)
        #expect(a.age(on: .fixture(1950, 12, 31)) == 1)
        #expect(a.age(on: .fixture(1949, 12, 30)) == -1)

        let leap = try CitizenIDNumber("530481200002290014", today: today)
        #expect(leap.age(on: .fixture(2018, 2, 28)) == 17)
        #expect(leap.age(on: .fixture(2018, 3, 1)) == 18)
        #expect(leap.age(on: .fixture(2020, 2, 28)) == 19)
        #expect(leap.age(on: .fixture(2020, 2, 29)) == 20)
    }

    @Test("minors (< 18) and children under 14 (§5.1.2)")
    func minors() throws {
        let child = try CitizenIDNumber("53048120150720004X", today: today)
        #expect(child.isMinor(on: today))
        #expect(child.isUnder14(on: today))
        #expect(child.isUnder14(on: .fixture(2029, 7, 19)))
        #expect(!child.isUnder14(on: .fixture(2029, 7, 20)))
        #expect(child.isMinor(on: .fixture(2033, 7, 19)))
        #expect(!child.isMinor(on: .fixture(2033, 7, 20)))
        let adult = try CitizenIDNumber("530481199001010011", today: today)
        #expect(!adult.isMinor(on: today))
        #expect(!adult.isUnder14(on: today))
    }

    @Test("sex follows the parity of the sequence code for every sequence digit")
    func sexParity() throws {
        for last in 0...9 {
            let first17 = "5304811990010100\(last)"
            let id = try CitizenIDNumber(first17 + String(CitizenIDNumber.checkCharacter(forFirst17: first17)!), today: today)
            #expect(id.sex == (last % 2 == 1 ? .male : .female), "\(first17)")
            #expect(id.sex.code == (last % 2 == 1 ? "1" : "2"))
        }
    }

    @Test("masked forms (§5.1.1)")
    func masking() throws {
        let id = try CitizenIDNumber("530481199001010011", today: today)
        #expect(id.masked == "530481********0011")
        #expect(id.maskedLowPrivilege == "5****************1")
        #expect(try CitizenIDNumber("53048120150720004x", today: today).maskedLowPrivilege == "5****************X")
    }

    @Test("Codable keeps the value and legacy15; decoding re-validates")
    func codable() throws {
        let id = try CitizenIDNumber("530422850101001", today: today)
        let data = try JSONEncoder().encode(id)
        let back = try JSONDecoder().decode(CitizenIDNumber.self, from: data)
        #expect(back.value == "530422198501010013")
        #expect(back.legacy15)
        #expect(back.birthDate == .fixture(1985, 1, 1))
        let bad = Data(#"{"value":"110105194912310021","legacy15":false}"#.utf8)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(CitizenIDNumber.self, from: bad) }
        let short = Data(#"{"value":"110105491231002","legacy15":true}"#.utf8)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(CitizenIDNumber.self, from: short) }
    }

    @Test("stored values skip only the future check")
    func stored() throws {
        let s = try CitizenIDNumber(stored: "530481202506020017", legacy15: false)
        #expect(s.birthDate == .fixture(2025, 6, 2))
        #expect(invalidFieldReason { _ = try CitizenIDNumber(stored: "110105194912310021", legacy15: false) } == "check character 1 does not match; expected X")
        #expect(invalidFieldName { _ = try CitizenIDNumber(stored: "110105491231002", legacy15: true) } == "idNumber")
    }

    // MARK: properties

    /// A random valid first 17 digits: a built-in address code, a date in 1800–2025, a sequence.
    private static func randomFirst17(_ g: inout SplitMix64) -> String {
        let codes = ["530481", "530422", "532423", "110105", "440524"]
        let year = Int.random(in: 1800...2024, using: &g)
        let month = Int.random(in: 1...12, using: &g)
        let day = Int.random(in: 1...CalendarDate.daysInMonth(month, year: year), using: &g)
        let date = CalendarDate.fixture(year, month, day).yyyymmdd
        let seq = String(format: "%03d", Int.random(in: 0...999, using: &g))
        return codes.randomElement(using: &g)! + date + seq
    }

    @Test("property: a number with its computed check character validates and round-trips")
    func propertyValid() throws {
        var g = SplitMix64(seed: 11643)
        for _ in 0..<2000 {
            let first17 = Self.randomFirst17(&g)
            let raw = first17 + String(CitizenIDNumber.checkCharacter(forFirst17: first17)!)
            let id = try CitizenIDNumber(raw, today: today)
            #expect(id.value == raw)
            #expect(id.birthDate.yyyymmdd == String(first17.dropFirst(6).prefix(8)))
            #expect(id.sex == (Int(String(first17.last!))! % 2 == 1 ? .male : .female))
        }
    }

    @Test("property: changing any one character or swapping two adjacent digits invalidates it")
    func propertySingleErrors() throws {
        var g = SplitMix64(seed: 1999)
        let alphabet = Array("0123456789X")
        for _ in 0..<150 {
            let first17 = Self.randomFirst17(&g)
            let chars = Array(first17 + String(CitizenIDNumber.checkCharacter(forFirst17: first17)!))
            for i in 0..<18 {
                for c in alphabet where c != chars[i] && (i == 17 || c != "X") {
                    var m = chars
                    m[i] = c
                    #expect(throws: DomainError.self, "\(String(m))") { _ = try CitizenIDNumber(String(m), today: today) }
                }
            }
            for i in 0..<16 where chars[i] != chars[i + 1] {
                var m = chars
                m.swapAt(i, i + 1)
                #expect(throws: DomainError.self, "\(String(m))") { _ = try CitizenIDNumber(String(m), today: today) }
            }
        }
    }

    @Test("property: a changed check character reports the right expected character")
    func propertyExpected() throws {
        var g = SplitMix64(seed: 7064)
        for _ in 0..<300 {
            let first17 = Self.randomFirst17(&g)
            let right = CitizenIDNumber.checkCharacter(forFirst17: first17)!
            let wrong = Array("0123456789X").filter { $0 != right }.randomElement(using: &g)!
            #expect(invalidFieldReason { _ = try CitizenIDNumber(first17 + String(wrong), today: today) } == "check character \(wrong) does not match; expected \(right)")
        }
    }

    @Test("property: every valid 15-digit number upgrades to a valid 18-character number")
    func propertyLegacy() throws {
        var g = SplitMix64(seed: 1989)
        for _ in 0..<1000 {
            let first17 = Self.randomFirst17(&g)
            guard first17.dropFirst(6).hasPrefix("19") else { continue }
            let fifteen = String(first17.prefix(6)) + String(first17.dropFirst(8))
            let old = try CitizenIDNumber(fifteen, today: today)
            #expect(old.legacy15)
            #expect(old.value == first17 + String(CitizenIDNumber.checkCharacter(forFirst17: first17)!))
            #expect(try CitizenIDNumber(old.value, today: today) == old)
        }
    }

    @Test("checkCharacter(forFirst17:) refuses anything but 17 ASCII digits", arguments: ["", "1101051949123100", "110105194912310021", "1101051949123100X", "１1010519491231002"])
    func checkCharacterInput(_ s: String) {
        #expect(CitizenIDNumber.checkCharacter(forFirst17: s) == nil)
    }
}
