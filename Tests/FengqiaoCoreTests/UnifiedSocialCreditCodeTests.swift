import Foundation
import Testing
@testable import FengqiaoCore

@Suite("统一社会信用代码 (GB 32100-2015), domain spec §5.3")
struct UnifiedSocialCreditCodeTests {
    @Test("valid vectors of §5.3", arguments: ["91350100M000100Y43", "91512081MA62K0260E"])
    func valid(_ raw: String) throws {
        let r = try UnifiedSocialCreditCode.validate(raw)
        #expect(r.value.value == raw)
        #expect(r.warnings.isEmpty)
        #expect(!r.requiresConfirmation)
        #expect(r.value.hasValidCheckCharacter)
        #expect(r.value.description == raw)
    }

    @Test("worked example: Σ = 1640, 1640 mod 31 = 28 → 3")
    func workedExample() {
        let cs = UnifiedSocialCreditCode.charset
        let sum = zip(Array("91350100M000100Y4"), UnifiedSocialCreditCode.weights).map { cs.firstIndex(of: $0.0)! * $0.1 }.reduce(0, +)
        #expect(sum == 1640)
        #expect(sum % 31 == 28)
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91350100M000100Y4") == "3")
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91512081MA62K0260") == "E")
    }

    @Test("charset and weights are those of the standard")
    func tables() {
        #expect(String(UnifiedSocialCreditCode.charset) == "0123456789ABCDEFGHJKLMNPQRTUWXY")
        #expect(UnifiedSocialCreditCode.charset.count == 31)
        for forbidden in Array("IOSVZ") { #expect(!UnifiedSocialCreditCode.charset.contains(forbidden)) }
        #expect(UnifiedSocialCreditCode.weights == (0..<17).map { i in (0..<i).reduce(1) { acc, _ in acc * 3 % 31 } })
        #expect(UnifiedSocialCreditCode.weights == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
    }

    @Test("91350100M000100Y4Z: a check failure is a warning requiring confirmation, expected 3")
    func invalidCheck() throws {
        let r = try UnifiedSocialCreditCode.validate("91350100M000100Y4Z")
        #expect(r.value.value == "91350100M000100Y4Z")
        #expect(r.warnings == [.checkCharacterMismatch(field: "uscc", expected: "3", found: "Z")])
        #expect(r.requiresConfirmation)
        #expect(!r.value.hasValidCheckCharacter)
        #expect(r.value.expectedCheckCharacter == "3")
        #expect(r.warnings.first?.description == "uscc: check character Z does not match; expected 3")
    }

    @Test("a wrong check character inside the charset also warns", arguments: ["91350100M000100Y44", "91350100M000100Y40", "91512081MA62K0260F"])
    func wrongCheckInCharset(_ raw: String) throws {
        let r = try UnifiedSocialCreditCode.validate(raw, field: "creditCode")
        #expect(r.requiresConfirmation)
        #expect(r.warnings.count == 1)
        #expect(r.warnings.first?.field == "creditCode")
    }

    @Test("lowercase letters and surrounding white space are normalised")
    func normalised() throws {
        let r = try UnifiedSocialCreditCode.validate("  91512081ma62k0260e\n")
        #expect(r.value.value == "91512081MA62K0260E")
        #expect(r.warnings.isEmpty)
    }

    @Test("a wrong length is an error", arguments: ["", "91350100M000100Y4", "91350100M000100Y433", "9"])
    func length(_ raw: String) {
        #expect(throws: DomainError.invalidField(field: "uscc", reason: "must have 18 characters (has \(raw.count))")) {
            _ = try UnifiedSocialCreditCode.validate(raw)
        }
    }

    @Test("characters outside the charset in positions 1–17 are errors", arguments: [
        ("91350100I000100Y43", 9, "I"),
        ("91350100O000100Y43", 9, "O"),
        ("91350100M000100S43", 16, "S"),
        ("V1350100M000100Y43", 1, "V"),
        ("9Z350100M000100Y43", 2, "Z"),
        ("91350100M000100-43", 16, "-"),
        ("91350100M0001 0Y43", 14, " "),
        ("9135010０M000100Y43", 8, "０"),
    ])
    func charset(_ v: (String, Int, String)) {
        #expect(throws: DomainError.invalidField(field: "uscc", reason: "character \(v.1) ('\(v.2)') is not allowed; use 0–9 and A–Y without I, O, S, V, Z")) {
            _ = try UnifiedSocialCreditCode(v.0)
        }
    }

    @Test("position 18 must be an ASCII digit or letter", arguments: ["91350100M000100Y4-", "91350100M000100Y4*", "91350100M000100Y4Ａ"])
    func position18(_ raw: String) {
        #expect(invalidFieldName { _ = try UnifiedSocialCreditCode(raw) } == "uscc")
        #expect(invalidFieldName { _ = try UnifiedSocialCreditCode(raw, field: "orgCode") } == "orgCode")
    }

    @Test("parts of the code")
    func parts() throws {
        let c = try UnifiedSocialCreditCode("91512081MA62K0260E")
        #expect(c.registrationAuthorityCode == "9")
        #expect(c.organizationCategoryCode == "1")
        #expect(c.divisionCode == "512081")
        #expect(c.subjectIdentifier == "MA62K0260")
        #expect(c.checkCharacter == "E")
    }

    @Test("Codable is the bare string; decoding refuses a bad charset but keeps a bad check")
    func codable() throws {
        let c = try UnifiedSocialCreditCode("91350100M000100Y43")
        let data = try JSONEncoder().encode([c])
        #expect(String(decoding: data, as: UTF8.self) == #"["91350100M000100Y43"]"#)
        #expect(try JSONDecoder().decode([UnifiedSocialCreditCode].self, from: data) == [c])
        let warned = try JSONDecoder().decode([UnifiedSocialCreditCode].self, from: Data(#"["91350100M000100Y4Z"]"#.utf8))
        #expect(!warned[0].hasValidCheckCharacter)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode([UnifiedSocialCreditCode].self, from: Data(#"["91350100I000100Y43"]"#.utf8)) }
    }

    private static func randomFirst17(_ g: inout SplitMix64) -> String {
        String((0..<17).map { _ in UnifiedSocialCreditCode.charset.randomElement(using: &g)! })
    }

    @Test("property: a computed check character never warns; any single change of positions 1–17 warns")
    func propertySingleChange() throws {
        var g = SplitMix64(seed: 32100)
        for _ in 0..<60 {
            let first17 = Self.randomFirst17(&g)
            let check = UnifiedSocialCreditCode.checkCharacter(forFirst17: first17)!
            let chars = Array(first17) + [check]
            #expect(try UnifiedSocialCreditCode.validate(String(chars)).warnings.isEmpty)
            for i in 0..<17 {
                for c in UnifiedSocialCreditCode.charset where c != chars[i] {
                    var m = chars
                    m[i] = c
                    let r = try UnifiedSocialCreditCode.validate(String(m))
                    #expect(r.requiresConfirmation, "\(String(m))")
                }
            }
        }
    }

    @Test("property: a changed check character warns with the right expected character")
    func propertyCheck() throws {
        var g = SplitMix64(seed: 31)
        for _ in 0..<500 {
            let first17 = Self.randomFirst17(&g)
            let right = UnifiedSocialCreditCode.checkCharacter(forFirst17: first17)!
            let wrong = UnifiedSocialCreditCode.charset.filter { $0 != right }.randomElement(using: &g)!
            let r = try UnifiedSocialCreditCode.validate(first17 + String(wrong))
            #expect(r.warnings == [.checkCharacterMismatch(field: "uscc", expected: right, found: wrong)])
        }
    }

    @Test("checkCharacter(forFirst17:) refuses bad input", arguments: ["", "91350100M000100Y", "91350100M000100Y43", "91350100I000100Y4"])
    func checkInput(_ s: String) {
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: s) == nil)
    }
}
