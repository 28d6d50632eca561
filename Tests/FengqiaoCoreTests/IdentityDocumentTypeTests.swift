import Foundation
import Testing
@testable import FengqiaoCore

private let today = CalendarDate.fixture(2025, 6, 1)

@Suite("Identity document types (GA/T 517-2004), domain spec §3.9")
struct IdentityDocumentTypeTests {
    @Test("the code table of §3.9")
    func table() {
        let expected: [(String, IdentityDocumentType, String)] = [
            ("111", .residentIdCard, "居民身份证"),
            ("112", .temporaryIdCard, "临时居民身份证"),
            ("113", .householdRegister, "户口簿"),
            ("114", .plaOfficerCard, "中国人民解放军军官证"),
            ("335", .driverLicence, "机动车驾驶证"),
            ("414", .chinesePassport, "普通护照"),
            ("420", .hkSarPassport, "香港特区护照"),
            ("421", .macaoSarPassport, "澳门特区护照"),
            ("511", .taiwanMtp, "台湾居民来往大陆通行证"),
            ("516", .hkMacaoMtp, "港澳居民来往内地通行证"),
            ("553", .foreignPermanentResidentCard, "外国人永久居留身份证"),
            ("990", .other, "其他"),
        ]
        #expect(IdentityDocumentType.allCases.count == expected.count)
        for (code, type, name) in expected {
            #expect(IdentityDocumentType(rawValue: code) == type)
            #expect(type.code == code)
            #expect(type.chineseName == name)
        }
        #expect(IdentityDocumentType(rawValue: "999") == nil)
        #expect(IdentityDocumentType.allCases.filter(\.usesCitizenIDNumber) == [.residentIdCard, .temporaryIdCard])
    }

    @Test("111 and 112 validate a 公民身份号码", arguments: [IdentityDocumentType.residentIdCard, .temporaryIdCard])
    func citizenID(_ t: IdentityDocumentType) throws {
        #expect(try t.validateNumber("53048120150720004x", today: today) == "53048120150720004X")
        #expect(try t.validateNumber("110105491231002", today: today) == "11010519491231002X")
        #expect(throws: DomainError.invalidField(field: "idNumber", reason: "check character 1 does not match; expected X")) {
            _ = try t.validateNumber("110105194912310021", today: today)
        }
        #expect(invalidFieldName { _ = try t.validateNumber("530481199002300010", today: today, field: "guestIdNumber") } == "guestIdNumber")
    }

    @Test("516 港澳通行证: H or M + 8 digits", arguments: ["H12345678", "M87654321", "h12345678", " M00000000 "])
    func hkMacaoValid(_ raw: String) throws {
        let n = try IdentityDocumentType.hkMacaoMtp.validateNumber(raw, today: today)
        #expect(n.count == 9)
        #expect(n == raw.trimmingCharacters(in: .whitespaces).uppercased())
    }

    @Test("516 refused", arguments: ["H1234567", "H123456789", "H1234567801", "K12345678", "12345678", "HH2345678", "H1234567X", "H 12345678", "Ｈ12345678"])
    func hkMacaoRefused(_ raw: String) {
        #expect(invalidFieldName { _ = try IdentityDocumentType.hkMacaoMtp.validateNumber(raw, today: today) } == "idNumber", "\(raw)")
    }

    @Test("511 台胞证: 8 digits", arguments: ["12345678", "00000001", " 87654321"])
    func taiwanValid(_ raw: String) throws {
        #expect(try IdentityDocumentType.taiwanMtp.validateNumber(raw, today: today) == raw.trimmingCharacters(in: .whitespaces))
    }

    @Test("511 refused", arguments: ["1234567", "123456789", "1234567801", "T1234567", "1234 5678", "１2345678", ""])
    func taiwanRefused(_ raw: String) {
        #expect(invalidFieldName { _ = try IdentityDocumentType.taiwanMtp.validateNumber(raw, today: today) } == "idNumber", "\(raw)")
    }

    @Test("other types: 1–32 visible characters", arguments: [
        IdentityDocumentType.householdRegister, .plaOfficerCard, .driverLicence, .chinesePassport,
        .hkSarPassport, .macaoSarPassport, .foreignPermanentResidentCard, .other,
    ])
    func generic(_ t: IdentityDocumentType) throws {
        #expect(try t.validateNumber("E12345678", today: today) == "E12345678")
        #expect(try t.validateNumber(" x ", today: today) == "x")
        #expect(try t.validateNumber(String(repeating: "A", count: 32), today: today).count == 32)
        #expect(try t.validateNumber("军字第123号", today: today) == "军字第123号")
        for bad in ["", "   ", String(repeating: "A", count: 33), "E1234 5678", "E1234\t5678", "E1234\u{0}5678", "E1234\u{200B}5678", "E1234\u{3000}5678"] {
            #expect(invalidFieldName { _ = try t.validateNumber(bad, today: today) } == "idNumber", "\(t) \(bad.debugDescription)")
        }
        #expect(throws: DomainError.invalidField(field: "docNo", reason: "must have 1–32 characters (has 33)")) {
            _ = try t.validateNumber(String(repeating: "A", count: 33), today: today, field: "docNo")
        }
    }

    @Test("Codable uses the standard code")
    func codable() throws {
        let data = try JSONEncoder().encode([IdentityDocumentType.hkMacaoMtp])
        #expect(String(decoding: data, as: UTF8.self) == #"["516"]"#)
        #expect(try JSONDecoder().decode([IdentityDocumentType].self, from: data) == [.hkMacaoMtp])
    }
}
