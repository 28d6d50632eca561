import Foundation

/// Why a field was refused, in Chinese and English: the reason carried by
/// `DomainError.invalidField(field:reason:)`.
///
/// The catalogued cases have both texts (`chinese`, `english`), so a page or file for grid
/// workers shows the Chinese one and the API (problem+json) keeps the English one. `text` holds a
/// reason not (yet) in the catalogue — written as a string literal or interpolation at the throw
/// site — in English only; its `chinese` is the English text.
///
/// Two reasons are equal when their English texts are, so an assertion written with the English
/// text (`.invalidField(field: "name", reason: "is required")`) still matches a catalogued reason.
public indirect enum ValidationReason: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringInterpolation {
    // MARK: Any field (FieldRules, RecordParty)
    /// A required value is missing.
    case required
    /// Required because `field` (an API field name) was given.
    case requiredWith(String)
    /// Longer than `max` characters.
    case tooLong(max: Int, has: Int)
    /// Holds control characters.
    case controlCharacters
    /// Holds spaces or control characters where only visible characters are allowed.
    case visibleCharactersOnly
    /// Not one of the choices of a code table (the cell's text, at most 20 characters shown).
    case notOneOf(String, choices: [String])
    /// Not 是 or 否.
    case notYesNo(String)
    /// Not a whole number.
    case notWholeNumber(String)
    /// Outside the allowed range (written like `0…10000000`).
    case outOfRange(String)
    /// Not a UUID.
    case notAnID

    // MARK: Dates (GB/T 7408)
    /// Not a `YYYY-MM-DD` date.
    case notADate(String)
    case yearOutOfRange(Int)
    case monthOutOfRange(Int)
    /// `day` does not exist in `yearMonth` (`2023-02`), which has `days` days.
    case dayOutOfRange(day: Int, days: Int, yearMonth: String)
    /// The date lies after today.
    case afterToday(String, today: String)
    /// The date lies before the birth date.
    case beforeBirthDate(String, birth: String)
    /// The date lies before the registration date.
    case beforeRegistrationDate(String, registered: String)
    /// The lease ends before it starts.
    case beforeLeaseStart(String, start: String)

    // MARK: 公民身份号码 (GB 11643-1999, domain spec §5.1)
    /// Neither 18 characters nor 15 digits.
    case idNumberLength(Int)
    /// A 15-digit number with a non-digit at `position`.
    case idLegacyDigitsOnly(position: Int, character: String)
    /// Position 1–17 is not a digit.
    case idDigit(position: Int, character: String)
    /// Position 18 is neither a digit nor X.
    case idLastCharacter(String)
    /// The embedded birth date does not exist.
    case idBirthDateInvalid(String)
    case idBirthYearBefore1800(Int)
    /// The embedded birth date lies after today.
    case idBirthDateAfterToday(String, today: String)
    /// The MOD 11-2 check character is wrong.
    case checkCharacterMismatch(found: String, expected: String)
    /// A sent birth date that differs from the ID number's.
    case birthDateContradictsIDNumber(given: String, derived: String)
    /// A sent sex that differs from the ID number's.
    case sexContradictsIDNumber(given: Sex, derived: Sex)
    /// Excel turned the number into scientific notation and lost its last digits.
    case excelScientificNotation

    // MARK: Other documents (GA/T 517)
    /// Not a GA/T 517 document type code or name.
    case notDocumentType(String)
    case hkMacaoPermitNumber
    case taiwanPermitNumber
    /// A document number outside 1–32 characters.
    case documentNumberLength(Int)

    // MARK: Phone numbers
    case phoneCharacters
    case phoneEmpty
    case phoneInternational
    case phoneMobile
    case phoneNoCountryCode
    case phoneNotMainland

    // MARK: Codes
    /// Not a GB/T 3304 ethnicity code or name.
    case unknownEthnicity(String)
    /// Not a 12-digit village-level division code.
    case divisionCode12
    /// A USCC that is not 18 characters.
    case usccLength(Int)
    /// A USCC character outside the GB 32100 charset.
    case usccCharacter(position: Int, character: String)
    /// A USCC position 18 that is neither a digit nor a letter.
    case usccLastCharacter(String)
    /// A USCC check mismatch that the API caller has not confirmed (`confirmWarnings`).
    case usccCheckUnconfirmed(found: String, expected: String)
    /// The same, in an import file: confirmed with the 确认校验 column.
    case usccCheckUnconfirmedImport(found: String, expected: String)
    case industrySection
    case industryCodeShape
    case industryDivisionUnknown(String)
    case industryDivisionSection(division: String, owner: String, given: String)
    case industryMissing

    // MARK: Addresses, houses, organisations
    /// No such address (or grid) in the caller's territory.
    case noSuchAddress
    case noSuchGrid(String)
    case addressRetired
    case areaNotPositive
    case areaTooLarge
    case areaNotANumber
    case areaDecimals
    case areaText(String)
    case tenantRequired
    case tooManyTenants(Int)
    case documentNumberTwice
    /// Only allowed when the house is rented (`occupancy` is the current one's code).
    case onlyWhenRented(String)
    case tooManyLicences(Int)
    /// A multi-value tenant cell lists `found` values where there are `names` tenant names;
    /// `what` names the values (`numbers`, `types`, `phones`).
    case tenantListLength(found: Int, what: String, names: Int)
    /// A reason about the tenant at 1-based `index` of a row.
    case tenant(Int, ValidationReason)

    /// A reason not in the catalogue, in English only.
    case text(String)

    // MARK: Texts

    /// The English text (the API's problem+json `detail` and `errors[].reason`).
    public var english: String {
        switch self {
        case .required: "is required"
        case .requiredWith(let f): "is required with \(f)"
        case .tooLong(let max, let has): "must have at most \(max) characters (has \(has))"
        case .controlCharacters: "must not contain control characters"
        case .visibleCharactersOnly: "may contain only visible characters (no spaces or control characters)"
        case .notOneOf(let s, let choices): "\(s.prefix(20)) is not one of \(choices.joined(separator: ", "))"
        case .notYesNo(let s): "\(s.prefix(20)) is not 是 or 否"
        case .notWholeNumber(let s): "\(s.prefix(20)) is not a whole number"
        case .outOfRange(let r): "must lie in \(r)"
        case .notAnID: "is not a valid id"
        case .notADate(let s): "\(s.prefix(20)) is not a calendar date YYYY-MM-DD"
        case .yearOutOfRange(let y): "year \(y) is outside 1–9999"
        case .monthOutOfRange(let m): "month \(m) is outside 1–12"
        case .dayOutOfRange(let d, let days, let ym): "day \(d) is outside 1–\(days) for \(ym)"
        case .afterToday(let d, let t): "\(d) lies after today (\(t))"
        case .beforeBirthDate(let d, let b): "\(d) lies before the birth date \(b)"
        case .beforeRegistrationDate(let d, let r): "\(d) lies before the registration date \(r)"
        case .beforeLeaseStart(let d, let s): "\(d) lies before leaseStart \(s)"
        case .idNumberLength(let n): "must have 18 characters, or 15 digits for a first-generation number (has \(n))"
        case .idLegacyDigitsOnly(let i, let c): "a 15-digit first-generation number must contain digits only (character \(i) is '\(c)')"
        case .idDigit(let i, let c): "character \(i) ('\(c)') must be a digit"
        case .idLastCharacter(let c): "character 18 ('\(c)') must be a digit or X"
        case .idBirthDateInvalid(let s): "birth date \(s) is not a calendar date"
        case .idBirthYearBefore1800(let y): "birth year \(y) is before 1800"
        case .idBirthDateAfterToday(let d, let t): "birth date \(d) lies after today (\(t))"
        case .checkCharacterMismatch(let f, let e): "check character \(f) does not match; expected \(e)"
        case .birthDateContradictsIDNumber(let g, let d): "\(g) contradicts the ID number, which gives \(d)"
        case .sexContradictsIDNumber(let g, let d): "\(g.code) contradicts the ID number, which gives \(d.code)"
        case .excelScientificNotation:
            "the cell holds a number in scientific notation: Excel keeps only 15 significant digits of a number, so the last digits of the ID number are lost; format the column as Text (文本) and enter the numbers again"
        case .notDocumentType(let s): "\(s.prefix(20)) is not a GA/T 517 code (111 居民身份证 …)"
        case .hkMacaoPermitNumber: "a 港澳居民来往内地通行证 number is H or M followed by 8 digits (without the renewal count)"
        case .taiwanPermitNumber: "a 台湾居民来往大陆通行证 number is 8 digits (without the issue count)"
        case .documentNumberLength(let n): "must have 1–32 characters (has \(n))"
        case .phoneCharacters: "may contain only digits, spaces, hyphens, parentheses and a leading +"
        case .phoneEmpty: "must not be empty"
        case .phoneInternational: "an international number needs a country code and 7–15 digits in all"
        case .phoneMobile: "a mobile number must be 1[3-9] followed by 9 digits"
        case .phoneNoCountryCode: "a number without + must be a mainland mobile (1…) or landline (0…); write other numbers with + and the country code"
        case .phoneNotMainland: "not a mainland mobile (1[3-9] + 9 digits) or landline (0 + area code + 7–8 digits)"
        case .unknownEthnicity(let s): "\(s.prefix(20)) is not a GB/T 3304 ethnicity code or name (01 or 汉族)"
        case .divisionCode12: "must be a 12-digit village-level division code"
        case .usccLength(let n): "must have 18 characters (has \(n))"
        case .usccCharacter(let i, let c): "character \(i) ('\(c)') is not allowed; use 0–9 and A–Y without I, O, S, V, Z"
        case .usccLastCharacter(let c): "character 18 ('\(c)') must be a digit or a letter"
        case .usccCheckUnconfirmed(let f, let e):
            "check character \(f) does not match; expected \(e) (GB 32100-2015); if the code is printed so on the licence, send it again with confirmWarnings: true"
        case .usccCheckUnconfirmedImport(let f, let e):
            "check character \(f) does not match; expected \(e) (GB 32100-2015); if the code is printed so on the licence, put 是 (yes) in the 确认校验 (Confirm warnings) column"
        case .industrySection: "must be a GB/T 4754 section letter A–T"
        case .industryCodeShape: "must be a GB/T 4754 division, group or class code of 2–4 digits"
        case .industryDivisionUnknown(let d): "division \(d) is not in GB/T 4754 (01–97)"
        case .industryDivisionSection(let d, let o, let g): "division \(d) belongs to section \(o), not \(g)"
        case .industryMissing: "give a section letter A–T or a code"
        case .noSuchAddress: "no such address in your territory"
        case .noSuchGrid(let c): "no grid \(c.prefix(20)) in your territory"
        case .addressRetired: "the address is retired"
        case .areaNotPositive: "must be greater than 0 m²"
        case .areaTooLarge: "must be at most 1000000 m²"
        case .areaNotANumber: "must be a number of square metres"
        case .areaDecimals: "may have at most 2 decimal places (m²)"
        case .areaText(let s): "\(s.prefix(20)) is not a number of square metres"
        case .tenantRequired: "a rented house needs at least one tenant"
        case .tooManyTenants(let n): "at most 50 tenants per house (has \(n))"
        case .documentNumberTwice: "the same document number is listed twice"
        case .onlyWhenRented(let o): "is only allowed when occupancy is rented (is \(o))"
        case .tooManyLicences(let n): "at most 10 licences (has \(n))"
        case .tenantListLength(let found, let what, let names): "lists \(found) \(what) for \(names) tenant names"
        case .tenant(let i, let r): "tenant \(i): \(r.english)"
        case .text(let s): s
        }
    }

    /// The Chinese text (import error files, the import page, Chinese forms).
    public var chinese: String {
        switch self {
        case .required: "必填"
        case .requiredWith(let f): "填写「\(Self.label(f))」时必填"
        case .tooLong(let max, let has): "最多 \(max) 个字符（现有 \(has) 个）"
        case .controlCharacters: "不能包含控制字符"
        case .visibleCharactersOnly: "只能包含可见字符（不能有空格或控制字符）"
        case .notOneOf(let s, let choices): "「\(s.prefix(20))」不是以下之一：\(choices.joined(separator: "、"))"
        case .notYesNo(let s): "「\(s.prefix(20))」应为“是”或“否”"
        case .notWholeNumber(let s): "「\(s.prefix(20))」不是整数"
        case .outOfRange(let r): "应在 \(r) 之间"
        case .notAnID: "不是有效的 ID"
        case .notADate(let s): "「\(s.prefix(20))」不是有效日期（格式 YYYY-MM-DD）"
        case .yearOutOfRange(let y): "年份 \(y) 不在 1–9999 之间"
        case .monthOutOfRange(let m): "月份 \(m) 不在 1–12 之间"
        case .dayOutOfRange(let d, let days, let ym): "\(ym) 没有 \(d) 日（该月为 1–\(days) 日）"
        case .afterToday(let d, let t): "\(d) 晚于今天（\(t)）"
        case .beforeBirthDate(let d, let b): "\(d) 早于出生日期 \(b)"
        case .beforeRegistrationDate(let d, let r): "\(d) 早于登记日期 \(r)"
        case .beforeLeaseStart(let d, let s): "\(d) 早于租赁起始日期 \(s)"
        case .idNumberLength(let n): "应为 18 位，或 15 位一代身份证号码（现有 \(n) 位）"
        case .idLegacyDigitsOnly(let i, let c): "15 位一代身份证号码只能是数字（第 \(i) 位是「\(c)」）"
        case .idDigit(let i, let c): "第 \(i) 位（「\(c)」）必须是数字"
        case .idLastCharacter(let c): "第 18 位（「\(c)」）必须是数字或 X"
        case .idBirthDateInvalid(let s): "号码中的出生日期 \(s) 不是有效日期"
        case .idBirthYearBefore1800(let y): "号码中的出生年份 \(y) 早于 1800 年"
        case .idBirthDateAfterToday(let d, let t): "号码中的出生日期 \(d) 晚于今天（\(t)）"
        case .checkCharacterMismatch(let f, let e): "校验码 \(f) 不正确，应为 \(e)"
        case .birthDateContradictsIDNumber(let g, let d): "\(g) 与证件号码不符（证件号码中的出生日期为 \(d)）"
        case .sexContradictsIDNumber(let g, let d): "「\(g.chineseName)」与证件号码不符（证件号码为\(d.chineseName)）"
        case .excelScientificNotation:
            "单元格是科学计数法的数字：Excel 只保留 15 位有效数字，证件号码的最后几位已经丢失；请把该列设为“文本”格式后重新输入号码"
        case .notDocumentType(let s): "「\(s.prefix(20))」不是 GA/T 517 证件类型代码或名称（如 111 居民身份证）"
        case .hkMacaoPermitNumber: "港澳居民来往内地通行证号码为 H 或 M 加 8 位数字（不含换证次数）"
        case .taiwanPermitNumber: "台湾居民来往大陆通行证号码为 8 位数字（不含签发次数）"
        case .documentNumberLength(let n): "应为 1–32 个字符（现有 \(n) 个）"
        case .phoneCharacters: "只能包含数字、空格、连字符、括号和开头的 +"
        case .phoneEmpty: "不能为空"
        case .phoneInternational: "境外号码需带国家或地区代码，共 7–15 位数字"
        case .phoneMobile: "手机号码应为 1 开头、第二位为 3–9 的 11 位数字"
        case .phoneNoCountryCode: "不带 + 的号码须是大陆手机（1 开头）或固定电话（0 开头）；其他号码请写 + 和国家或地区代码"
        case .phoneNotMainland: "不是有效的大陆手机号码（1[3-9] 加 9 位）或固定电话（0 加区号加 7–8 位）"
        case .unknownEthnicity(let s): "「\(s.prefix(20))」不是 GB/T 3304 民族代码或名称（如 01 或 汉族）"
        case .divisionCode12: "应为 12 位村级区划代码"
        case .usccLength(let n): "应为 18 位（现有 \(n) 位）"
        case .usccCharacter(let i, let c): "第 \(i) 位「\(c)」不允许；只能用 0–9 和 A–Y（不含 I、O、S、V、Z）"
        case .usccLastCharacter(let c): "第 18 位（「\(c)」）必须是数字或字母"
        case .usccCheckUnconfirmed(let f, let e):
            "校验码 \(f) 不正确，应为 \(e)（GB 32100-2015）；如执照上印的就是这个代码，请带 confirmWarnings: true 重新提交"
        case .usccCheckUnconfirmedImport(let f, let e):
            "校验码 \(f) 不正确，应为 \(e)（GB 32100-2015）；如执照上印的就是这个代码，请在“确认校验”列填“是”"
        case .industrySection: "应为 GB/T 4754 门类字母 A–T"
        case .industryCodeShape: "应为 2–4 位 GB/T 4754 大类、中类或小类代码"
        case .industryDivisionUnknown(let d): "大类 \(d) 不在 GB/T 4754 中（01–97）"
        case .industryDivisionSection(let d, let o, let g): "大类 \(d) 属于门类 \(o)，不属于 \(g)"
        case .industryMissing: "请填写门类字母 A–T 或行业代码"
        case .noSuchAddress: "您的辖区内没有这个地址"
        case .noSuchGrid(let c): "您的辖区内没有网格 \(c.prefix(20))"
        case .addressRetired: "该地址已注销"
        case .areaNotPositive: "必须大于 0 平方米"
        case .areaTooLarge: "不能超过 1000000 平方米"
        case .areaNotANumber: "应为平方米数"
        case .areaDecimals: "最多 2 位小数（平方米）"
        case .areaText(let s): "「\(s.prefix(20))」不是平方米数"
        case .tenantRequired: "出租房屋至少需要一名承租人"
        case .tooManyTenants(let n): "每套房屋最多 50 名承租人（现有 \(n) 名）"
        case .documentNumberTwice: "同一证件号码填写了两次"
        case .onlyWhenRented(let o): "仅在使用状况为“出租”时填写（现为 \(Self.occupancyName(o))）"
        case .tooManyLicences(let n): "最多 10 个许可证（现有 \(n) 个）"
        case .tenantListLength(let found, let what, let names): "有 \(names) 个承租人姓名，却填了 \(found) 个\(Self.label(what))"
        case .tenant(let i, let r): "第 \(i) 个承租人：\(r.chinese)"
        case .text(let s): s
        }
    }

    /// The English text.
    public var description: String { english }

    /// Whether the reason has a Chinese text of its own (every case but `text`).
    public var isCatalogued: Bool {
        if case .text = self { return false }
        return true
    }

    public static func == (a: ValidationReason, b: ValidationReason) -> Bool { a.english == b.english }
    public func hash(into h: inout Hasher) { h.combine(english) }

    /// A reason written at the throw site as a string (English only).
    public init(stringLiteral value: String) { self = .text(value) }
    public init(stringInterpolation: DefaultStringInterpolation) { self = .text(String(stringInterpolation: stringInterpolation)) }

    /// The Chinese label of an API field named inside a Chinese reason (`requiredWith`); the
    /// field name itself when it has none.
    static func label(_ field: String) -> String {
        var f = field
        // `tenants[0].idDocType` → `tenantIdDocType`.
        if f.hasPrefix("tenants["), let dot = f.firstIndex(of: "."), let first = f[f.index(after: dot)...].first {
            f = "tenant" + first.uppercased() + f[f.index(after: dot)...].dropFirst()
        }
        return labels[f] ?? field
    }

    static let labels: [String: String] = [
        "deregisteredAt": "注销日期", "deregistrationReason": "注销原因", "ownershipCertificateNo": "产权证号",
        "ownershipCertificateType": "产权证类型", "securityContactPhone": "治保负责人电话", "securityContactName": "治保负责人",
        "ownerIdNumber": "房主证件号码", "ownerIdDocType": "房主证件类型", "tenantIdNumber": "承租人证件号码", "tenantIdDocType": "承租人证件类型",
        "legalRepresentativeIdNumber": "法定代表人证件号码", "legalRepresentativeIdDocType": "法定代表人证件类型",
        "idNumber": "证件号码", "idDocType": "证件类型", "numbers": "证件号码", "types": "证件类型", "phones": "联系电话",
    ]

    static func occupancyName(_ code: String) -> String {
        ActualHouse.Occupancy(rawValue: code)?.chineseName ?? code
    }
}

/// Collects the field errors of one record, so an import can report every bad field of a row
/// instead of only the first.
public struct FieldErrorCollector: Sendable {
    /// The errors in the order they were found.
    public private(set) var errors: [DomainError] = []

    public init() {}

    /// Runs `body`; a `DomainError` it throws is kept and `nil` returned.
    public mutating func check<T>(_ body: () throws(DomainError) -> T) -> T? {
        do { return try body() } catch {
            errors.append(error)
            return nil
        }
    }

    /// Records an error.
    public mutating func add(_ error: DomainError) { errors.append(error) }

    /// Whether `field` already has an error.
    public func has(_ field: String) -> Bool {
        errors.contains { if case .invalidField(let f, _) = $0 { f == field } else { false } }
    }
}

/// Every invalid field of one record, in field order (never empty).
public struct FieldErrors: Error, Sendable, Equatable {
    public let errors: [DomainError]

    public init(_ errors: [DomainError]) { self.errors = errors }

    /// The first error: what a single-record API answers with (422 naming one field).
    public var first: DomainError { errors[0] }
}
