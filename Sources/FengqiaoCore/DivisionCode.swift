import Foundation

/// Administrative division codes: GB/T 2260 (6 digits: province, prefecture, county), the
/// 9-digit township code (GB/T 10114 positions 7–9) and the 12-digit statistical division code
/// of the National Bureau of Statistics (统计用区划代码). Domain spec §2.1, §5.2.
public struct DivisionCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The level a code denotes.
    public enum Level: String, Sendable, Codable, Comparable {
        case province, prefecture, county, township, village

        private var rank: Int {
            switch self {
            case .province: 0
            case .prefecture: 1
            case .county: 2
            case .township: 3
            case .village: 4
            }
        }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    /// The code as given (6, 9 or 12 digits).
    public let value: String
    public let level: Level

    /// Parses and validates a code.
    /// - Throws: `DomainError.invalidField(field, reason)` for a wrong length, a non-digit,
    ///   a township part 000 (positions 7–9: 0xx 街道, 1xx 镇, 2xx/3xx 乡, 4xx/5xx 政企合一,
    ///   999 区公所 as published by the Ministry of Civil Affairs) or a village part outside
    ///   001–399 (001–199 居委会, 200–399 村委会).
    public init(_ raw: String, field: String = "divisionCode") throws(DomainError) {
        let s = raw.trimmed
        guard s.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .invalidField(field: field, reason: "must contain digits only")
        }
        if [6, 9, 12].contains(s.count), s.hasPrefix("00") {
            throw .invalidField(field: field, reason: "province part 00 does not exist")
        }
        switch s.count {
        case 6:
            value = s
            if s.hasSuffix("0000") { level = .province } else if s.hasSuffix("00") { level = .prefecture } else { level = .county }
        case 9:
            value = s
            level = .township
            try Self.checkTownship(s, field: field)
        case 12:
            value = s
            let town = String(s.prefix(9)), village = Int(s.suffix(3))!
            if town.hasSuffix("000") {
                guard village == 0 else { throw .invalidField(field: field, reason: "a village part needs a township part") }
                let six = String(s.prefix(6))
                if six.hasSuffix("0000") { level = .province } else if six.hasSuffix("00") { level = .prefecture } else { level = .county }
            } else {
                try Self.checkTownship(town, field: field)
                if village == 0 {
                    level = .township
                } else if village <= 399 {
                    level = .village
                } else {
                    throw .invalidField(field: field, reason: "village part \(String(s.suffix(3))) is outside 001–399")
                }
            }
        default:
            throw .invalidField(field: field, reason: "must have 6, 9 or 12 digits (has \(s.count))")
        }
    }

    private static func checkTownship(_ nine: String, field: String) throws(DomainError) {
        let part = Int(nine.suffix(3))!
        // GB/T 10114 types 0–5 cover 001–599, but the Ministry of Civil Affairs also publishes
        // 999 for district offices (区公所, e.g. 130731999), so every non-zero part is accepted.
        guard part >= 1 else {
            throw .invalidField(field: field, reason: "township part 000 does not exist")
        }
    }

    /// The 6-digit county (or higher) code.
    public var countyCode: String { String(value.prefix(6)) }

    /// The 12-digit form, zero-padded (`530481001` → `530481001000`).
    public var twelveDigits: String { value + String(repeating: "0", count: 12 - value.count) }

    /// For a village-level code, whether it is a residents' committee (居委会, 001–199) rather
    /// than a villagers' committee (村委会, 200–399).
    public var isResidentsCommittee: Bool? {
        guard level == .village else { return nil }
        return Int(value.suffix(3))! <= 199
    }

    public var description: String { value }
}

/// Grid code (网格编码). No national code exists for social-governance grids (domain spec §2.1,
/// [P]); the project default is the community's 12-digit statistical code plus a 3-digit
/// sequence (15 digits), dedicated grids (专属网格) using 900–999.
public enum GridCode {
    /// Builds a code from the community code and a sequence.
    /// - Throws: `DomainError.invalidField` when the community code is not 12 digits or the
    ///   sequence is outside 001–899 (basic) / 900–999 (dedicated).
    public static func make(communityCode12: String, sequence: Int, dedicated: Bool) throws(DomainError) -> String {
        guard communityCode12.count == 12, communityCode12.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .invalidField(field: "communityCode", reason: "a grid code needs the community's 12-digit code")
        }
        let range = dedicated ? 900...999 : 1...899
        guard range.contains(sequence) else {
            throw .invalidField(field: "sequence", reason: "must lie in \(range.lowerBound)–\(range.upperBound) for a \(dedicated ? "dedicated" : "basic") grid")
        }
        let s = String(sequence)
        return communityCode12 + String(repeating: "0", count: 3 - s.count) + s
    }

    /// Validates a stored grid code: 15 digits, or any non-empty local code up to 32 characters
    /// when the community code is not yet known.
    public static func validate(_ code: String) throws(DomainError) {
        let c = code.trimmed
        guard !c.isEmpty, c.count <= 32 else {
            throw .invalidField(field: "code", reason: "must have 1–32 characters")
        }
        guard c.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw .invalidField(field: "code", reason: "may contain only ASCII letters, digits and '-'")
        }
    }
}
