import Testing
@testable import FengqiaoCore

@Suite("Display masking")
struct MaskingTests {
    @Test("ID numbers keep the first 6 and last 4")
    func idNumber() {
        #expect(Masking.idNumber("530481199001010011") == "530481********0011")
        #expect(Masking.idNumber("53048119900101001X") == "530481********001X")
        #expect(Masking.idNumber("530481900101001") == "530481*****1001") // 15-digit first generation
        #expect(Masking.idNumber("12345678901") == "123456*8901")
    }

    @Test("short ID numbers are masked entirely", arguments: ["", "1", "12345", "1234567890"])
    func shortID(_ s: String) {
        #expect(Masking.idNumber(s) == String(repeating: "*", count: s.count))
    }

    @Test("low-privilege ID numbers keep the first 1 and last 1 (§5.1.1)")
    func idNumberLowPrivilege() {
        #expect(Masking.idNumberLowPrivilege("530481199001010011") == "5****************1")
        #expect(Masking.idNumberLowPrivilege("53048120150720004X") == "5****************X")
        #expect(Masking.idNumberLowPrivilege("530481900101001") == "5*************1")
        #expect(Masking.idNumberLowPrivilege("123") == "1*3")
    }

    @Test("very short values are masked entirely in the low-privilege form", arguments: ["", "1", "12"])
    func shortLowPrivilege(_ s: String) {
        #expect(Masking.idNumberLowPrivilege(s) == String(repeating: "*", count: s.count))
    }

    @Test("mobile numbers keep 3 + 4")
    func phone() {
        #expect(Masking.phone("13800138000") == "138****8000")
        #expect(Masking.phone("138 0013 8000") == "138****8000")
        #expect(Masking.phone("138-0013-8000") == "138****8000")
        #expect(Masking.phone("+86 138 0013 8000") == "138****8000")
        #expect(Masking.phone("8613800138000") == "138****8000")
        #expect(Masking.phone("0877-6912345") == "087****2345")
    }

    @Test("short numbers are masked entirely", arguments: ["", "110", "123456"])
    func shortPhone(_ s: String) {
        #expect(Masking.phone(s) == String(repeating: "*", count: s.count))
    }

    @Test("a masked number never shows every digit", arguments: ["1234567", "6912345", "12345678", "13800138000"])
    func phoneNeverClear(_ s: String) {
        #expect(Masking.phone(s).contains("*"))
        #expect(Masking.phone(s) != s)
    }

    @Test("names keep the first character")
    func name() {
        #expect(Masking.name("张三") == "张*")
        #expect(Masking.name("李小龙") == "李**")
        #expect(Masking.name("欧阳娜娜") == "欧***")
        #expect(Masking.name("张") == "张*")
        #expect(Masking.name("") == "")
    }
}

@Suite("reveal purpose")
struct RevealPurposeTests {
    @Test("a purpose is 2–200 characters of text, trimmed; control characters are refused")
    func rules() throws {
        #expect(try RevealPurpose.validated("  核实身份 ") == "核实身份")
        for bad in [nil, "", " x ", "\u{0}\u{0}", "核\u{7}实", String(repeating: "查", count: 201)] as [String?] {
            #expect(throws: DomainError.self) { try RevealPurpose.validated(bad) }
        }
    }
}
