import Foundation

/// 统一社会信用代码 — the unified social credit code of a legal person or other organisation
/// (GB 32100-2015), 18 characters: position 1 登记管理部门代码, 2 机构类别代码, 3–8 登记管理机关
/// 行政区划码 (GB/T 2260), 9–17 主体标识码 (the former organisation code, GB 11714), 18 check
/// character. Domain spec §5.3.
///
/// Charset `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z), value = index; weights
/// `3^(i-1) mod 31`; check `C18 = charset[(31 − Σ vᵢ·Wᵢ mod 31) mod 31]`.
/// A wrong length or a character outside the charset in positions 1–17 is an error. A wrong
/// check character is only a warning requiring confirmation, because some real older codes fail
/// the check (§5.3); position 18 may therefore hold any ASCII digit or letter.
public struct UnifiedSocialCreditCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The normalised 18-character code (upper case).
    public let value: String

    /// The 31 characters of the code, in value order.
    public static let charset: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    /// Weights for positions 1–17: `3^(i-1) mod 31`.
    public static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// Parses a code: surrounding white space is trimmed and lowercase letters are upper-cased.
    /// The check character is not enforced; see `warnings(field:)` and `validate(_:field:)`.
    /// - Throws: `DomainError.invalidField(field, reason)` for a length other than 18, a
    ///   character outside the charset in positions 1–17, or a position 18 that is not an ASCII
    ///   digit or letter.
    public init(_ raw: String, field: String = "uscc") throws(DomainError) {
        let chars = Array(raw.trimmingCharacters(in: .whitespacesAndNewlines))
            .map { $0.isASCII && $0.isLowercase ? Character($0.uppercased()) : $0 }
        guard chars.count == 18 else {
            throw .invalidField(field: field, reason: .usccLength(chars.count))
        }
        for (i, c) in chars.prefix(17).enumerated() where Self.index(of: c) == nil {
            throw .invalidField(field: field, reason: .usccCharacter(position: i + 1, character: String(c)))
        }
        let last = chars[17]
        guard last.isASCII, last.isNumber || last.isUppercase else {
            throw .invalidField(field: field, reason: .usccLastCharacter(String(last)))
        }
        value = String(chars)
    }

    /// Parses a code and reports a wrong check character.
    /// - Returns: the code, with `ValidationWarning.checkCharacterMismatch` (requires
    ///   confirmation) when the check character is wrong.
    /// - Throws: `DomainError.invalidField` as `init(_:field:)`.
    public static func validate(_ raw: String, field: String = "uscc") throws(DomainError) -> Validated<UnifiedSocialCreditCode> {
        let code = try UnifiedSocialCreditCode(raw, field: field)
        return Validated(value: code, warnings: code.warnings(field: field))
    }

    /// The check character for the first 17 characters, or `nil` when `first17` is not 17
    /// characters of the charset.
    public static func checkCharacter(forFirst17 first17: String) -> Character? {
        let chars = Array(first17)
        guard chars.count == 17 else { return nil }
        var sum = 0
        for i in 0..<17 {
            guard let v = index(of: chars[i]) else { return nil }
            sum += v * weights[i]
        }
        return charset[(31 - sum % 31) % 31]
    }

    private static func index(of c: Character) -> Int? { charset.firstIndex(of: c) }

    /// Warnings for this code: `checkCharacterMismatch` when the check character is wrong.
    public func warnings(field: String = "uscc") -> [ValidationWarning] {
        hasValidCheckCharacter ? [] : [.checkCharacterMismatch(field: field, expected: expectedCheckCharacter, found: checkCharacter)]
    }

    /// The check character computed from positions 1–17.
    public var expectedCheckCharacter: Character { Self.checkCharacter(forFirst17: String(value.prefix(17)))! }

    /// Whether position 18 equals the computed check character.
    public var hasValidCheckCharacter: Bool { checkCharacter == expectedCheckCharacter }

    /// Position 18 as entered.
    public var checkCharacter: Character { value.last! }

    /// Position 1: 登记管理部门代码 (registration authority, e.g. `9` 工商).
    public var registrationAuthorityCode: Character { value.first! }

    /// Position 2: 机构类别代码 (organisation category within the authority).
    public var organizationCategoryCode: Character { Array(value)[1] }

    /// Positions 3–8: 登记管理机关行政区划码 (GB/T 2260 code of the registering authority).
    public var divisionCode: String { String(value.dropFirst(2).prefix(6)) }

    /// Positions 9–17: 主体标识码 (the organisation code, GB 11714).
    public var subjectIdentifier: String { String(value.dropFirst(8).prefix(9)) }

    /// The 18-character code.
    public var description: String { value }

    /// Decodes the code from a string through `init(_:field:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let s = try container.decode(String.self)
        do {
            self = try UnifiedSocialCreditCode(s)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the code as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
