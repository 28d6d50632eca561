import Foundation

/// Identity document type (证件类型), codes from GA/T 517-2004 常用证件代码. Domain spec §3.9
/// [V partial]; 112, 113 and 553 are [R], 990 is [P]. The raw value is the standard's code:
/// never renumber it.
public enum IdentityDocumentType: String, Sendable, Codable, CaseIterable {
    /// 111 居民身份证.
    case residentIdCard = "111"
    /// 112 临时居民身份证 [R].
    case temporaryIdCard = "112"
    /// 113 户口簿 [R].
    case householdRegister = "113"
    /// 114 中国人民解放军军官证.
    case plaOfficerCard = "114"
    /// 335 机动车驾驶证.
    case driverLicence = "335"
    /// 414 普通护照 (中国).
    case chinesePassport = "414"
    /// 420 香港特区护照.
    case hkSarPassport = "420"
    /// 421 澳门特区护照.
    case macaoSarPassport = "421"
    /// 511 台湾居民来往大陆通行证.
    case taiwanMtp = "511"
    /// 516 港澳居民来往内地通行证.
    case hkMacaoMtp = "516"
    /// 553 外国人永久居留身份证 [R].
    case foreignPermanentResidentCard = "553"
    /// 990 其他 [P].
    case other = "990"

    /// The GA/T 517 code (`"111"`).
    public var code: String { rawValue }

    /// The Chinese name (`居民身份证`).
    public var chineseName: String {
        switch self {
        case .residentIdCard: "居民身份证"
        case .temporaryIdCard: "临时居民身份证"
        case .householdRegister: "户口簿"
        case .plaOfficerCard: "中国人民解放军军官证"
        case .driverLicence: "机动车驾驶证"
        case .chinesePassport: "普通护照"
        case .hkSarPassport: "香港特区护照"
        case .macaoSarPassport: "澳门特区护照"
        case .taiwanMtp: "台湾居民来往大陆通行证"
        case .hkMacaoMtp: "港澳居民来往内地通行证"
        case .foreignPermanentResidentCard: "外国人永久居留身份证"
        case .other: "其他"
        }
    }

    /// Whether the number is a 公民身份号码 checked by `CitizenIDNumber` (111, 112).
    public var usesCitizenIDNumber: Bool { self == .residentIdCard || self == .temporaryIdCard }

    /// Validates and normalises a document number for this type (§3.9):
    /// * 111, 112: a 公民身份号码 (`CitizenIDNumber`, GB 11643-1999; a 15-digit number is
    ///   returned upgraded to 18 characters);
    /// * 516 港澳通行证: `H` or `M` + 8 digits, without the renewal count (a lowercase letter is
    ///   upper-cased);
    /// * 511 台胞证: 8 digits, without the issue count;
    /// * every other type: 1–32 visible characters (no white space or control characters).
    /// Surrounding white space is trimmed in every case.
    /// - Parameters:
    ///   - today: the reference day for the ID-number birth-date check.
    ///   - field: the field name reported in errors.
    /// - Returns: the normalised number.
    /// - Throws: `DomainError.invalidField(field, reason)` when the number does not fit the
    ///   type's format.
    public func validateNumber(_ raw: String, today: CalendarDate, field: String = "idNumber") throws(DomainError) -> String {
        let s = raw.trimmed
        switch self {
        case .residentIdCard, .temporaryIdCard:
            return try CitizenIDNumber(s, today: today, field: field).value
        case .hkMacaoMtp:
            let u = s.uppercased()
            let rest = u.dropFirst()
            guard u.count == 9, u.first == "H" || u.first == "M", rest.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else {
                throw .invalidField(field: field, reason: .hkMacaoPermitNumber)
            }
            return u
        case .taiwanMtp:
            guard s.count == 8, s.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else {
                throw .invalidField(field: field, reason: .taiwanPermitNumber)
            }
            return s
        default:
            guard (1...32).contains(s.count) else {
                throw .invalidField(field: field, reason: .documentNumberLength(s.count))
            }
            guard s.unicodeScalars.allSatisfy(Self.isVisible) else {
                throw .invalidField(field: field, reason: .visibleCharactersOnly)
            }
            return s
        }
    }

    private static func isVisible(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            false
        default:
            true
        }
    }
}
