import Foundation

/// 公民身份号码 — the resident ID number (GB 11643-1999), 18 characters `AAAAAA YYYYMMDD SSS C`:
/// address code (GB/T 2260 county code of the permanent hukou at issue), birth date
/// (GB/T 7408), sequence code (odd = male, even = female) and the ISO 7064 MOD 11-2 check
/// character (`0`–`9` or `X`). Domain spec §5.1.
///
/// Validation order (§5.1): trim, lowercase `x` → `X`; length and characters
/// (`^\d{17}[\dX]$`); calendar date with the Gregorian leap rule, not after `today`, year ≥ 1800;
/// check character. A first-generation 15-digit number (GB 11643-1989, `AAAAAA YYMMDD SSS`,
/// century 19) is accepted as legacy input and upgraded to 18 characters with `legacy15 = true`.
/// The address code is checked separately against a `DivisionCodeHistory` and only warned about
/// (`warnings(history:field:)`, `validate(_:today:history:field:)`).
///
/// Two numbers are equal when their 18-character values are; `legacy15` records only how the
/// number was entered.
public struct CitizenIDNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The normalised 18-character number (`11010519491231002X`).
    public let value: String
    /// Whether the number was entered in the 15-digit first-generation form and upgraded.
    public let legacy15: Bool
    /// The birth date (positions 7–14).
    public let birthDate: CalendarDate

    /// MOD 11-2 weights `W[i] = 2^(17-i) mod 11` for positions 1–17.
    public static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkCharacters: [Character] = Array("10X98765432")

    /// Parses and validates a number entered by a user.
    /// - Parameters:
    ///   - raw: 18 characters, or 15 digits for a legacy number; surrounding white space and a
    ///     lowercase `x` are accepted.
    ///   - today: the reference day for "not in the future" (the check-in day, the registration
    ///     day); never implied.
    ///   - field: the field name reported in errors.
    /// - Throws: `DomainError.invalidField(field, reason)` for a wrong length, a character that is
    ///   not a digit (or `X` in position 18), a birth date that does not exist, lies after
    ///   `today` or before 1800, or a wrong check character (the reason names the expected one).
    public init(_ raw: String, today: CalendarDate, field: String = "idNumber") throws(DomainError) {
        try self.init(parsing: raw, today: today, field: field)
    }

    /// Re-reads a stored number (as written by `encode(to:)` or a store column pair): the
    /// same checks as `init(_:today:field:)` except "not in the future", which was checked when
    /// the number was saved.
    /// - Throws: `DomainError.invalidField(field, reason)` as `init(_:today:field:)`, or when
    ///   `value` is not 18 characters.
    public init(stored value: String, legacy15: Bool, field: String = "idNumber") throws(DomainError) {
        guard value.count == 18 else {
            throw .invalidField(field: field, reason: "a stored number must have 18 characters (has \(value.count))")
        }
        let parsed = try CitizenIDNumber(parsing: value, today: nil, field: field)
        self.value = parsed.value
        self.birthDate = parsed.birthDate
        self.legacy15 = legacy15
    }

    private init(parsing raw: String, today: CalendarDate?, field: String) throws(DomainError) {
        let trimmed = raw.trimmed
        let chars = Array(trimmed).map { $0 == "x" ? Character("X") : $0 }
        switch chars.count {
        case 15:
            if let i = chars.firstIndex(where: { !Self.isDigit($0) }) {
                throw .invalidField(field: field, reason: .idLegacyDigitsOnly(position: i + 1, character: String(chars[i])))
            }
            let digits = String(chars)
            let date = try Self.birthDate(String(digits.dropFirst(6).prefix(6)), century: "19", today: today, field: field)
            value = Self.upgradeLegacy15(digits)!
            birthDate = date
            legacy15 = true
        case 18:
            for (i, c) in chars.enumerated() where !Self.isDigit(c) && !(i == 17 && c == "X") {
                throw .invalidField(field: field, reason: i == 17 ? .idLastCharacter(String(c)) : .idDigit(position: i + 1, character: String(c)))
            }
            let s = String(chars)
            let date = try Self.birthDate(String(s.dropFirst(6).prefix(8)), century: "", today: today, field: field)
            let expected = Self.checkCharacter(forFirst17: String(s.prefix(17)))!
            guard chars[17] == expected else {
                throw .invalidField(field: field, reason: .checkCharacterMismatch(found: String(chars[17]), expected: String(expected)))
            }
            value = s
            birthDate = date
            legacy15 = false
        default:
            throw .invalidField(field: field, reason: .idNumberLength(chars.count))
        }
    }

    private static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isWholeNumber }

    private static func birthDate(_ digits: String, century: String, today: CalendarDate?, field: String) throws(DomainError) -> CalendarDate {
        let ymd = century + digits
        guard let date = CalendarDate(yyyymmdd: ymd) else {
            throw .invalidField(field: field, reason: .idBirthDateInvalid(ymd))
        }
        guard date.year >= 1800 else {
            throw .invalidField(field: field, reason: .idBirthYearBefore1800(date.year))
        }
        if let today, date > today {
            throw .invalidField(field: field, reason: .idBirthDateAfterToday(date.description, today: today.description))
        }
        return date
    }

    /// The ISO 7064 MOD 11-2 check character for the first 17 digits:
    /// `"10X98765432"[Σ digit[i]·W[i] mod 11]`. Also used by residence permits and the 2023
    /// foreign permanent resident card (§5.1.3). Returns `nil` unless `first17` is 17 ASCII digits.
    public static func checkCharacter(forFirst17 first17: String) -> Character? {
        let u = Array(first17.utf8)
        guard u.count == 17, u.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var sum = 0
        for i in 0..<17 { sum += Int(u[i] - 48) * weights[i] }
        return checkCharacters[sum % 11]
    }

    /// Upgrades a 15-digit first-generation number: `19` inserted after position 6, then the
    /// MOD 11-2 check character appended (`110105491231002` → `11010519491231002X`). Returns
    /// `nil` unless `fifteen` is 15 ASCII digits; the date is not checked here.
    public static func upgradeLegacy15(_ fifteen: String) -> String? {
        let u = Array(fifteen.utf8)
        guard u.count == 15, u.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let first17 = String(fifteen.prefix(6)) + "19" + String(fifteen.dropFirst(6))
        return first17 + String(checkCharacter(forFirst17: first17)!)
    }

    /// Parses a number and checks its address code against `history`.
    /// - Returns: the number with a `ValidationWarning.unknownAddressCode` when the address code
    ///   is not in `history` (a warning, not an error: §5.1, §5.1.3).
    /// - Throws: `DomainError.invalidField` as `init(_:today:field:)`.
    public static func validate(
        _ raw: String, today: CalendarDate, history: some DivisionCodeHistory, field: String = "idNumber"
    ) throws(DomainError) -> Validated<CitizenIDNumber> {
        let number = try CitizenIDNumber(raw, today: today, field: field)
        return Validated(value: number, warnings: number.warnings(history: history, field: field))
    }

    /// Warnings for this number: `unknownAddressCode` when the address code has never been a
    /// GB/T 2260 code according to `history`.
    public func warnings(history: some DivisionCodeHistory, field: String = "idNumber") -> [ValidationWarning] {
        history.contains(addressCode) ? [] : [.unknownAddressCode(field: field, code: addressCode)]
    }

    /// The 6-digit address code (positions 1–6).
    public var addressCode: String { String(value.prefix(6)) }

    /// The 3-digit sequence code (positions 15–17).
    public var sequenceCode: String { String(value.dropFirst(14).prefix(3)) }

    /// The check character (position 18): `0`–`9` or `X`.
    public var checkCharacter: Character { value.last! }

    /// Sex from the parity of the sequence code: odd → `.male` (GB/T 2261.1 `1`), even →
    /// `.female` (`2`).
    public var sex: Sex { Int(sequenceCode)! % 2 == 1 ? .male : .female }

    /// Age in full years (周岁) on `date`: the birthday counts from the day itself, a 29 February
    /// birthday from 1 March in common years (§5.1). Pass the day the decision is about (the
    /// check-in day), never the server's "now". Negative when `date` precedes the birth date.
    public func age(on date: CalendarDate) -> Int { birthDate.fullYears(until: date) }

    /// Whether the holder is a minor (未成年人, age < 18) on `date` (§5.1.2; hotel Five Musts §6.3).
    public func isMinor(on date: CalendarDate) -> Bool { age(on: date) < 18 }

    /// Whether the holder is under 14 on `date`: then all of the person's PI is sensitive
    /// (PIPL Art. 28, §5.1.2).
    public func isUnder14(on date: CalendarDate) -> Bool { age(on: date) < 14 }

    /// Whether the address code is one of the codes used by residence permits for Hong Kong,
    /// Macao and Taiwan residents (810000, 820000, 830000; §5.1.3 [R]).
    public var isHKMacaoTaiwanResidencePermit: Bool {
        ["810000", "820000", "830000"].contains(addressCode)
    }

    /// Default display form: first 6 and last 4 kept (`530481********0011`, §5.1.1).
    public var masked: String { Masking.idNumber(value) }

    /// Low-privilege/public display form: first 1 and last 1 kept (`5****************1`, §5.1.1).
    public var maskedLowPrivilege: String { Masking.idNumberLowPrivilege(value) }

    /// The 18-character value.
    public var description: String { value }

    public static func == (a: CitizenIDNumber, b: CitizenIDNumber) -> Bool { a.value == b.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }

    private enum CodingKeys: String, CodingKey { case value, legacy15 }

    /// Decodes `{"value": "…", "legacy15": false}` through `init(stored:legacy15:)`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let v = try c.decode(String.self, forKey: .value)
        let legacy = try c.decodeIfPresent(Bool.self, forKey: .legacy15) ?? false
        do {
            self = try CitizenIDNumber(stored: v, legacy15: legacy)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .value, in: c, debugDescription: error.description)
        }
    }

    /// Encodes `{"value": "…", "legacy15": …}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value)
        try c.encode(legacy15, forKey: .legacy15)
    }
}
