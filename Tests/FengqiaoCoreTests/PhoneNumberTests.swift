import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Phone numbers in E.164, domain spec §5.4, §5.5")
struct PhoneNumberTests {
    @Test("+86, 86, 0086, spaces and hyphens normalise to the same mobile", arguments: [
        "13900000001", "+8613900000001", "8613900000001", "008613900000001",
        "+86 139 0000 0001", "+86-139-0000-0001", "139-0000-0001", "139 0000 0001", " 13900000001 ",
        "86 13900000001", "0086 139 0000 0001", "+86 (139) 0000 0001", "013900000001", "+86013900000001",
    ])
    func mobileForms(_ raw: String) throws {
        let p = try PhoneNumber(raw)
        #expect(p.e164 == "+8613900000001")
        #expect(p.kind == .mobile)
        #expect(p == (try PhoneNumber("13900000001")))
        #expect(p.nationalNumber == "13900000001")
        #expect(p.areaCode == nil)
        #expect(p.isMainland)
    }

    @Test("every mobile prefix 13–19 is accepted, 10–12 is not")
    func mobilePrefixes() throws {
        for second in 3...9 {
            #expect(try PhoneNumber("1\(second)800138000").kind == .mobile)
        }
        for second in 0...2 {
            #expect(invalidFieldName { _ = try PhoneNumber("1\(second)800138000") } == "phone", "1\(second)")
        }
    }

    @Test("landlines are stored as +86 without the trunk 0", arguments: [
        ("0877-6912345", "+868776912345", "0877"),
        ("08776912345", "+868776912345", "0877"),
        ("0877 691 2345", "+868776912345", "0877"),
        ("+86 877 6912345", "+868776912345", "0877"),
        ("+86 (0)877 6912345", "+868776912345", "0877"),
        ("86-0877-6912345", "+868776912345", "0877"),
        ("0086 877 6912345", "+868776912345", "0877"),
        ("010-12345678", "+861012345678", "010"),
        ("010-1234567", "+86101234567", "010"),
        ("021-87654321", "+862187654321", "021"),
        ("+86 10 12345678", "+861012345678", "010"),
        ("0871-65123456", "+8687165123456", "0871"),
    ])
    func landlines(_ v: (String, String, String)) throws {
        let p = try PhoneNumber(v.0)
        #expect(p.e164 == v.1)
        #expect(p.kind == .landline)
        #expect(p.areaCode == v.2)
        #expect(p.nationalNumber == "0" + v.1.dropFirst(3))
    }

    @Test("an international number never equals a mainland one with the same digits")
    func international() throws {
        let cn = try PhoneNumber("13900000001")
        let us = try PhoneNumber("+13900000001")
        #expect(us.e164 == "+13900000001")
        #expect(us.kind == .international)
        #expect(!us.isMainland)
        #expect(us != cn)
        let uk = try PhoneNumber("+44 13900000001")
        #expect(uk.e164 == "+4413900000001")
        #expect(uk != cn)
        #expect(Set([cn, us, uk, try PhoneNumber("+86 139 0000 0001")]).count == 3)
        // Hong Kong (+852) and Taiwan (+886) are separate country/region codes.
        let hk = try PhoneNumber("+852 9123 4567")
        #expect(hk.e164 == "+85291234567")
        #expect(hk.kind == .international)
        #expect(hk.nationalNumber == nil)
        #expect(try PhoneNumber("00852 9123 4567") == hk)
        #expect(try PhoneNumber("+886 912 345 678").kind == .international)
    }

    @Test("refused inputs name the field", arguments: [
        "", "   ", "+", "-", "12345", "1390000000", "139000000012", "12900000001",
        "0877-691234", // subscriber 6 digits
        "0877-691234567", // subscriber 9 digits
        "0131234567", // no area code 013
        "00877", "+86", "+86 123", "+8612900000001", "+0123456789", "+1234567890123456",
        "+123456", "6912345", "2345678901", "139O0000001", "139.0000.0001", "13900000001#", "1390000000１",
        "+86+13900000001", "13900000001+",
    ])
    func refused(_ raw: String) {
        #expect(invalidFieldName { _ = try PhoneNumber(raw) } == "phone", "\(raw)")
        #expect(invalidFieldName { _ = try PhoneNumber(raw, field: "guardianPhone") } == "guardianPhone", "\(raw)")
    }

    @Test("error reasons are specific")
    func reasons() {
        #expect(throws: DomainError.invalidField(field: "phone", reason: "must not be empty")) { _ = try PhoneNumber(" - ") }
        #expect(throws: DomainError.invalidField(field: "phone", reason: "may contain only digits, spaces, hyphens, parentheses and a leading +")) { _ = try PhoneNumber("139.0000.0001") }
        #expect(throws: DomainError.invalidField(field: "phone", reason: "a mobile number must be 1[3-9] followed by 9 digits")) { _ = try PhoneNumber("1390000000") }
        #expect(throws: DomainError.invalidField(field: "phone", reason: "not a mainland mobile (1[3-9] + 9 digits) or landline (0 + area code + 7–8 digits)")) { _ = try PhoneNumber("0877-691234") }
        #expect(throws: DomainError.invalidField(field: "phone", reason: "an international number needs a country code and 7–15 digits in all")) { _ = try PhoneNumber("+123456") }
        #expect(throws: DomainError.invalidField(field: "phone", reason: "a number without + must be a mainland mobile (1…) or landline (0…); write other numbers with + and the country code")) { _ = try PhoneNumber("4413900000001") }
    }

    @Test("masked display (§5.1.1)")
    func masked() throws {
        #expect(try PhoneNumber("+86 138 0013 8000").masked == "138****8000")
        #expect(try PhoneNumber("0877-6912345").masked == "087****2345")
        #expect(try PhoneNumber("+44 20 7946 0000").masked.contains("*"))
    }

    @Test("Codable is the E.164 string")
    func codable() throws {
        let p = try PhoneNumber("0877-6912345")
        let data = try JSONEncoder().encode([p])
        #expect(String(decoding: data, as: UTF8.self) == #"["+868776912345"]"#)
        let back = try JSONDecoder().decode([PhoneNumber].self, from: data)
        #expect(back == [p])
        #expect(back[0].kind == .landline)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([PhoneNumber].self, from: Data(#"["12345"]"#.utf8)) }
    }

    @Test("property: E.164 output parses back to itself")
    func propertyIdempotent() throws {
        var g = SplitMix64(seed: 164)
        for _ in 0..<1000 {
            let mobile = "1" + String(Int.random(in: 3...9, using: &g)) + String(format: "%09d", Int.random(in: 0...999_999_999, using: &g))
            let p = try PhoneNumber(mobile)
            #expect(try PhoneNumber(p.e164) == p)
            #expect(try PhoneNumber("0086 " + mobile) == p)
            #expect(p.e164 == "+86" + mobile)
            let foreign = try PhoneNumber("+1" + mobile.dropFirst())
            #expect(foreign != p)
        }
    }
}
