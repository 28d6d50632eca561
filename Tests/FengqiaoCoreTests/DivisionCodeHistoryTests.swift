import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Historic division codes for ID-number address codes (§2.2, §5.1)")
struct DivisionCodeHistoryTests {
    @Test("the built-in fallback holds the target area's current and former codes and the standard's examples",
          arguments: ["530481", "530422", "532423", "110105", "440524"])
    func builtIn(_ code: String) {
        #expect(HistoricDivisionCodes.builtIn.contains(code))
    }

    @Test("the built-in fallback does not hold residence-permit or made-up codes", arguments: ["810000", "830000", "999999", "53048", ""])
    func notBuiltIn(_ code: String) {
        #expect(!HistoricDivisionCodes.builtIn.contains(code))
    }

    @Test("text list: one code per line, names, comments, blank lines, CRLF and a BOM")
    func text() throws {
        let text = "\u{FEFF}# gb2260 union\n110000\r\n110105 朝阳区\n\n  530422,澄江县\n530481\t澄江市\n   \n# end"
        let set = try HistoricDivisionCodes(text: text)
        #expect(set.codes == ["110000", "110105", "530422", "530481"])
        #expect(set.count == 4)
        #expect(set.contains("530422"))
        #expect(!set.contains("532423"))
    }

    @Test("a malformed line is refused with its number", arguments: [
        ("530481\n53042\n", "line 2: '53042' is not a 6-digit division code"),
        ("5304810\n", "line 1: '5304810' is not a 6-digit division code"),
        ("530481\n\nabcdef", "line 3: 'abcdef' is not a 6-digit division code"),
        ("530481\r\n５３０４８１", "line 2: '５３０４８１' is not a 6-digit division code"),
    ])
    func malformed(_ v: (String, String)) {
        #expect(throws: DomainError.invalidField(field: "divisionCodes", reason: .text(v.1))) { _ = try HistoricDivisionCodes(text: v.0) }
    }

    @Test("loading from a file, and the union with the fallback")
    func file() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fengqiao-codes-\(UUID().uuidString).txt")
        try "650000\n650100\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let loaded = try HistoricDivisionCodes(contentsOf: url)
        #expect(loaded.codes == ["650000", "650100"])
        let all = loaded.union(.builtIn)
        #expect(all.contains("650100"))
        #expect(all.contains("530481"))
        #expect(all.count == loaded.count + HistoricDivisionCodes.builtIn.count)
        let missing = url.appendingPathExtension("missing")
        #expect(invalidFieldName { _ = try HistoricDivisionCodes(contentsOf: missing) } == "divisionCodes")
    }

    @Test("any DivisionCodeHistory can be passed to ID validation")
    func customConformance() throws {
        struct Everything: DivisionCodeHistory {
            func contains(_ code: String) -> Bool { true }
        }
        let r = try CitizenIDNumber.validate("999999199001010016", today: .fixture(2025, 6, 1), history: Everything())
        #expect(r.warnings.isEmpty)
    }
}
