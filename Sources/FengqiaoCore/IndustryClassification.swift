import Foundation

/// 国民经济行业分类 (GB/T 4754-2017, as amended 2019) of an organisation: a section letter
/// (门类, A–T) and optionally a division (大类, 2 digits), group (中类, 3 digits) or class (小类,
/// 4 digits) code. Domain spec §3.1 "industry (GB/T 4754 [R])".
///
/// Structure [V] (GB/T 4754-2017 §4 as quoted by tj.jiangsu.gov.cn, 2025-01-20): 20 sections
/// by one capital letter, 97 divisions by 2 digits, groups by 3 digits (division + 1), classes by
/// 4 digits (group + 1). The division ranges of each section (A 01–05, B 06–12 [V] from the
/// standard's table of contents; the others [R]) decide whether a code belongs to a section.
/// Only the range of the division is checked, not whether a group or class exists.
public struct IndustryClassification: Sendable, Hashable, Codable {
    /// A section (门类) of GB/T 4754-2017 with its division range.
    public enum Section: String, Sendable, Codable, CaseIterable {
        case A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T

        /// The divisions (大类) of the section.
        public var divisions: ClosedRange<Int> {
            switch self {
            case .A: 1...5
            case .B: 6...12
            case .C: 13...43
            case .D: 44...46
            case .E: 47...50
            case .F: 51...52
            case .G: 53...60
            case .H: 61...62
            case .I: 63...65
            case .J: 66...69
            case .K: 70...70
            case .L: 71...72
            case .M: 73...75
            case .N: 76...79
            case .O: 80...82
            case .P: 83...83
            case .Q: 84...85
            case .R: 86...90
            case .S: 91...96
            case .T: 97...97
            }
        }

        /// The section name (`住宿和餐饮业`).
        public var chineseName: String {
            switch self {
            case .A: "农、林、牧、渔业"
            case .B: "采矿业"
            case .C: "制造业"
            case .D: "电力、热力、燃气及水生产和供应业"
            case .E: "建筑业"
            case .F: "批发和零售业"
            case .G: "交通运输、仓储和邮政业"
            case .H: "住宿和餐饮业"
            case .I: "信息传输、软件和信息技术服务业"
            case .J: "金融业"
            case .K: "房地产业"
            case .L: "租赁和商务服务业"
            case .M: "科学研究和技术服务业"
            case .N: "水利、环境和公共设施管理业"
            case .O: "居民服务、修理和其他服务业"
            case .P: "教育"
            case .Q: "卫生和社会工作"
            case .R: "文化、体育和娱乐业"
            case .S: "公共管理、社会保障和社会组织"
            case .T: "国际组织"
            }
        }

        /// The section a division (1–97) belongs to, or `nil`.
        public static func of(division: Int) -> Section? { allCases.first { $0.divisions.contains(division) } }
    }

    public let section: Section
    /// The division, group or class code (2–4 digits), if known.
    public let code: String?

    /// Checks a classification. Either part may be missing but not both; a section given as a
    /// lower-case letter is upper-cased; without a section it is taken from the code.
    /// - Throws: `DomainError.invalidField(sectionField | codeField, …)` for a letter outside A–T,
    ///   a code that is not 2–4 digits or whose division 01–97 is unknown, or a code outside the
    ///   section's divisions (`H` with `5411`).
    public init(section rawSection: String?, code rawCode: String?, sectionField: String = "industrySection", codeField: String = "industryCode") throws(DomainError) {
        let s = (rawSection ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        let c = (rawCode ?? "").trimmingCharacters(in: .whitespaces)
        var sec: Section?
        if !s.isEmpty {
            guard let v = Section(rawValue: s) else { throw .invalidField(field: sectionField, reason: .industrySection) }
            sec = v
        }
        var code: String?
        if !c.isEmpty {
            guard (2...4).contains(c.count), c.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else {
                throw .invalidField(field: codeField, reason: .industryCodeShape)
            }
            let division = Int(c.prefix(2))!
            guard let owner = Section.of(division: division) else {
                throw .invalidField(field: codeField, reason: .industryDivisionUnknown(String(c.prefix(2))))
            }
            if let sec, sec != owner {
                throw .invalidField(field: codeField, reason: .industryDivisionSection(division: String(c.prefix(2)), owner: owner.rawValue, given: sec.rawValue))
            }
            sec = owner
            code = c
        }
        guard let sec else { throw .invalidField(field: sectionField, reason: .industryMissing) }
        self.section = sec
        self.code = code
    }

    /// `H6110` or `H`.
    public var description: String { section.rawValue + (code ?? "") }
}
