import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing

@Suite("division file parser")
struct DivisionFileParserTests {
    static let good = """
        code\tname\tlevel\tparent_code
        530000\t云南省\tprovince\t
        530400\t玉溪市\tprefecture\t530000
        530481\t澄江市\tcounty\t530400
        530481001\t凤麓街道\ttownship\t530481
        110101\t东城区\tcounty\t110000

        """

    @Test("a good file: header skipped, every row accepted with its level and parent")
    func good() {
        let r = DivisionFileParser.parseCurrent(Self.good)
        #expect(r.rejections.isEmpty)
        #expect(r.records.map(\.code) == ["530000", "530400", "530481", "530481001", "110101"])
        #expect(r.records[0] == DivisionRecord(code: "530000", name: "云南省", level: .province, parentCode: nil))
        #expect(r.records[3] == DivisionRecord(code: "530481001", name: "凤麓街道", level: .township, parentCode: "530481"))
        // A county of a municipality hangs directly under the province.
        #expect(r.records[4].parentCode == "110000")
    }

    @Test("a BOM and CRLF line ends change nothing")
    func bomAndCRLF() {
        let crlf = "\u{FEFF}" + Self.good.replacingOccurrences(of: "\n", with: "\r\n")
        let r = DivisionFileParser.parseCurrent(crlf)
        #expect(r.rejections.isEmpty)
        #expect(r.records == DivisionFileParser.parseCurrent(Self.good).records)
        #expect(r.records.allSatisfy { !$0.name.contains("\r") && !($0.parentCode ?? "").contains("\r") })
        // Without a header, the BOM must not stick to the first code.
        let bare = DivisionFileParser.parseCurrent("\u{FEFF}530000\t云南省\tprovince\t\r\n530400\t玉溪市\tprefecture\t530000\r\n")
        #expect(bare.rejections.isEmpty)
        #expect(bare.records.map(\.code) == ["530000", "530400"])
    }

    @Test("bad codes, levels, parents and column counts are reported with their line numbers")
    func rejections() {
        let text = [
            "code\tname\tlevel\tparent_code",     // 1
            "530481\t澄江市\tcounty\t530400",       // 2 good
            "53048X\t坏\tcounty\t530400",           // 3 non-digit
            "5304810\t坏\tcounty\t530400",          // 4 seven digits
            "530481000\t坏\ttownship\t530481",      // 5 township part 000
            "530481001\t凤麓街道\ttownship",         // 6 three columns
            "530481002\t龙街街道\ttownship\t530481\textra", // 7 five columns
            "530481100\t阳宗镇\tcounty\t530481",     // 8 level does not match
            "530481101\t右所镇\ttown\t530481",       // 9 unknown level
            "530481102\t海口镇\ttownship\t530300",   // 10 parent of another prefecture
            "530481103\t\ttownship\t530481",        // 11 empty name
            "530481\t澄江市\tcounty\t530400",       // 12 duplicate
            "530481000000\t澄江市\tcounty\t530400", // 13 12-digit form of a county
            "# a comment",                          // 14 skipped
            "530400\t玉溪市\tprefecture\t",          // 15 missing parent
        ].joined(separator: "\n")
        let r = DivisionFileParser.parseCurrent(text)
        #expect(r.records.map(\.code) == ["530481"])
        #expect(r.rejections.map(\.line) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15])
        let reason = Dictionary(uniqueKeysWithValues: r.rejections.map { ($0.line, $0.reason) })
        #expect(reason[3]?.contains("digits only") == true)
        #expect(reason[4]?.contains("6, 9 or 12 digits") == true)
        #expect(reason[5]?.contains("township part 000") == true)
        #expect(reason[6] == "expected 4 tab-separated columns (code, name, level, parent_code), found 3")
        #expect(reason[7]?.contains("found 5") == true)
        #expect(reason[8]?.contains("township code") == true)
        #expect(reason[9]?.contains("'town'") == true)
        #expect(reason[10]?.contains("cannot be the parent") == true)
        #expect(reason[11]?.hasPrefix("name:") == true)
        #expect(reason[12] == "duplicate code 530481 (first on line 2)")
        #expect(reason[13]?.contains("6 digits") == true)
        #expect(reason[15]?.hasPrefix("parent_code:") == true)
        #expect(r.rejections[0].description.hasPrefix("line 3: code:"))
    }

    @Test("a wrong header is reported, and the rows below it still read")
    func wrongHeader() {
        let r = DivisionFileParser.parseCurrent("code\tname\tparent_code\tlevel\n530000\t云南省\tprovince\t\n")
        #expect(r.rejections.map(\.line) == [1])
        #expect(r.records.count == 1)
    }

    @Test("historic list: code and name, level from the code, comments and BOM skipped")
    func historic() {
        let text = "\u{FEFF}# header\r\n530000\t云南省\r\n352800\t三明地区\r\n530422\t澄江县\r\n530481001\t凤麓街道\r\n530423\r\n530422\t重复\r\n"
        let r = DivisionFileParser.parseHistoric(text)
        #expect(r.records == [
            DivisionRecord(code: "530000", name: "云南省", level: .province, parentCode: nil, historic: true),
            DivisionRecord(code: "352800", name: "三明地区", level: .prefecture, parentCode: nil, historic: true),
            DivisionRecord(code: "530422", name: "澄江县", level: .county, parentCode: nil, historic: true),
        ])
        #expect(r.rejections.map(\.line) == [5, 6, 7])
        #expect(r.rejections[0].reason.contains("6 digits"))
        #expect(r.rejections[1].reason.contains("2 tab-separated columns"))
    }

    @Test("bytes that are not UTF-8 are refused")
    func notUTF8() {
        #expect(throws: DomainError.self) { try DivisionFileParser.text(Data([0x35, 0x33, 0xFF, 0xFE, 0x0A])) }
    }
}
