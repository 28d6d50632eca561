import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Administrative division codes (GB/T 2260, GB/T 10114, NBS 12-digit)")
struct DivisionCodeTests {
    @Test("levels from the domain spec", arguments: [
        ("530481001000", DivisionCode.Level.township),
        ("530481100000", .township), // 1xx: 镇
        ("530481200000", .township), // 2xx: 乡
        ("530481599000", .township),
        ("530481", .county),
        ("530400", .prefecture),
        ("530000", .province),
        ("530481001", .township),
        ("530481001001", .village),
        ("530481001250", .village),
        ("530481001399", .village),
        ("530481000000", .county),
        ("530400000000", .prefecture),
        ("530000000000", .province),
    ])
    func levels(_ v: (String, DivisionCode.Level)) throws {
        let code = try DivisionCode(v.0)
        #expect(code.level == v.1)
        #expect(code.value == v.0)
        #expect(code.description == v.0)
    }

    @Test("residents' (001–199) and villagers' (200–399) committees")
    func committees() throws {
        #expect(try DivisionCode("530481001001").isResidentsCommittee == true)
        #expect(try DivisionCode("530481001199").isResidentsCommittee == true)
        #expect(try DivisionCode("530481001200").isResidentsCommittee == false)
        #expect(try DivisionCode("530481001250").isResidentsCommittee == false)
        #expect(try DivisionCode("530481001399").isResidentsCommittee == false)
        #expect(try DivisionCode("530481001000").isResidentsCommittee == nil)
        #expect(try DivisionCode("530481").isResidentsCommittee == nil)
    }

    @Test("invalid codes name the field", arguments: [
        "530481001999", // village part > 399
        "530481001400",
        "530481000001", // village without township
        "530481000", // township part 000
        "000000", // province 00
        "", "5", "5304", "53048", "5304810", "53048100", "5304810010", "53048100100", "5304810010011",
        "53048a", "53048100100x", "5304 81", "５３０４８１", "530481-001", "-53048",
    ])
    func invalid(_ raw: String) {
        #expect(invalidFieldName { _ = try DivisionCode(raw) } == "divisionCode", "\(raw)")
        #expect(invalidFieldName { _ = try DivisionCode(raw, field: "townshipCode") } == "townshipCode", "\(raw)")
    }

    @Test("township parts beyond GB/T 10114's types, as the Ministry publishes them (区公所 999), are accepted")
    func districtOffices() throws {
        #expect(try DivisionCode("130731999").level == .township)
        #expect(try DivisionCode("653124999000").level == .township)
    }

    @Test("province part 00 is refused in every length")
    func provinceZero() {
        #expect(invalidFieldName { _ = try DivisionCode("000000") } == "divisionCode")
        #expect(invalidFieldName { _ = try DivisionCode("000000000000") } == "divisionCode")
        #expect(invalidFieldName { _ = try DivisionCode("001234001") } == "divisionCode")
        #expect(invalidFieldName { _ = try DivisionCode("001234001001") } == "divisionCode")
    }

    @Test("error reasons are specific")
    func reasons() {
        #expect(throws: DomainError.invalidField(field: "divisionCode", reason: "village part 999 is outside 001–399")) {
            _ = try DivisionCode("530481001999")
        }
        #expect(throws: DomainError.invalidField(field: "divisionCode", reason: "must have 6, 9 or 12 digits (has 4)")) {
            _ = try DivisionCode("5304")
        }
        #expect(throws: DomainError.invalidField(field: "x", reason: "must contain digits only")) {
            _ = try DivisionCode("53048a", field: "x")
        }
    }

    @Test("surrounding spaces are trimmed")
    func trimmed() throws {
        let c = try DivisionCode("  530481001  ")
        #expect(c.value == "530481001")
        #expect(c.level == .township)
    }

    @Test("twelve-digit form and county code")
    func forms() throws {
        #expect(try DivisionCode("530481").twelveDigits == "530481000000")
        #expect(try DivisionCode("530481001").twelveDigits == "530481001000")
        #expect(try DivisionCode("530481001001").twelveDigits == "530481001001")
        #expect(try DivisionCode("530481001001").countyCode == "530481")
        #expect(try DivisionCode("530481001").countyCode == "530481")
    }

    @Test("levels are ordered from province to village")
    func order() {
        let levels: [DivisionCode.Level] = [.village, .province, .township, .prefecture, .county]
        #expect(levels.sorted() == [.province, .prefecture, .county, .township, .village])
        #expect(DivisionCode.Level.county < .township)
        #expect(!(DivisionCode.Level.village < .village))
    }
}

@Suite("Grid codes")
struct GridCodeTests {
    @Test("community code plus 3-digit sequence")
    func make() throws {
        #expect(try GridCode.make(communityCode12: "530481001001", sequence: 1, dedicated: false) == "530481001001001")
        #expect(try GridCode.make(communityCode12: "530481001001", sequence: 42, dedicated: false) == "530481001001042")
        #expect(try GridCode.make(communityCode12: "530481001001", sequence: 899, dedicated: false) == "530481001001899")
        #expect(try GridCode.make(communityCode12: "530481001001", sequence: 900, dedicated: true) == "530481001001900")
        #expect(try GridCode.make(communityCode12: "530481001001", sequence: 999, dedicated: true) == "530481001001999")
    }

    @Test("basic grids use 001–899, dedicated grids 900–999", arguments: [
        (0, false), (900, false), (-1, false), (1000, false),
        (899, true), (1, true), (1000, true), (0, true),
    ])
    func sequenceRange(_ v: (Int, Bool)) {
        #expect(invalidFieldName { _ = try GridCode.make(communityCode12: "530481001001", sequence: v.0, dedicated: v.1) } == "sequence")
    }

    @Test("the community code must be 12 digits", arguments: ["530481001", "5304810010010", "53048100100a", "", "５３０４８１００１００１"])
    func communityCode(_ code: String) {
        #expect(invalidFieldName { _ = try GridCode.make(communityCode12: code, sequence: 1, dedicated: false) } == "communityCode")
    }

    @Test("stored codes: 1–32 ASCII letters, digits or hyphens", arguments: [
        "530481001001001", "G-01", "a", String(repeating: "9", count: 32), " G-01 ",
    ])
    func validateOK(_ code: String) throws {
        try GridCode.validate(code)
    }

    @Test("stored codes refused", arguments: [
        "", "   ", String(repeating: "9", count: 33), "网格1", "a b", "a_b", "G/01", "G.01",
    ])
    func validateRefused(_ code: String) {
        #expect(invalidFieldName { try GridCode.validate(code) } == "code", "\(code)")
    }
}
