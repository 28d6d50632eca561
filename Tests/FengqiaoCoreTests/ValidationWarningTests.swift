import Testing
@testable import FengqiaoCore

@Suite("Validation warnings")
struct ValidationWarningTests {
    @Test("fields, confirmation and text")
    func basics() {
        let a = ValidationWarning.unknownAddressCode(field: "idNumber", code: "810000")
        let b = ValidationWarning.checkCharacterMismatch(field: "uscc", expected: "3", found: "Z")
        #expect(a.field == "idNumber")
        #expect(b.field == "uscc")
        #expect(!a.requiresConfirmation)
        #expect(b.requiresConfirmation)
        #expect(a.description == "idNumber: address code 810000 is not a known division code")
        #expect(b.description == "uscc: check character Z does not match; expected 3")
    }

    @Test("a result requires confirmation when any warning does")
    func result() {
        let a = ValidationWarning.unknownAddressCode(field: "idNumber", code: "810000")
        let b = ValidationWarning.checkCharacterMismatch(field: "uscc", expected: "3", found: "Z")
        #expect(!Validated(value: 1, warnings: []).requiresConfirmation)
        #expect(!Validated(value: 1, warnings: [a]).requiresConfirmation)
        #expect(Validated(value: 1, warnings: [a, b]).requiresConfirmation)
        #expect(Validated(value: 1, warnings: [a]) == Validated(value: 1, warnings: [a]))
        #expect(Validated(value: 1, warnings: [a]) != Validated(value: 1, warnings: [b]))
    }
}
