/// A telephone number stored in E.164 form (`+8613900000001`). Domain spec §5.4, §5.5 [P].
///
/// Accepted input, after removing spaces, hyphens and parentheses:
/// * mainland mobile `^1[3-9]\d{9}$` (§5.4);
/// * mainland landline `^0\d{2,3}-?\d{7,8}$` (§5.4) — 0 + area code (`010`, `02x`: 2 digits
///   after the 0; otherwise 3) + a 7–8 digit subscriber number — stored as `+86` without the
///   trunk 0 (`0877-6912345` → `+868776912345`); a mobile dialled with a leading 0
///   (`013900000001`) is the mobile;
/// * either of the above behind `+86`, `86` or `0086` (one trunk 0 after the country code is
///   dropped: `+86 (0)877 6912345`);
/// * any other number as `+` or `00` + country code + subscriber number, 7–15 digits in all
///   (E.164). It is `.international` and never equals a mainland number that shares its
///   digits (`+13900000001` ≠ `13900000001`).
/// A number without `+`/`00` that is neither a mobile, a landline nor `86`-prefixed is refused,
/// since its country cannot be known.
public struct PhoneNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of number it is.
    public enum Kind: String, Sendable, Codable {
        /// Mainland mobile (`+86` + `1[3-9]` + 9 digits).
        case mobile
        /// Mainland landline (`+86` + area code without the trunk 0 + 7–8 digits).
        case landline
        /// Any country or region code other than 86 (including +852, +853, +886).
        case international
    }

    /// The E.164 form: `+` and 7–15 digits.
    public let e164: String
    /// The kind, derived from `e164`.
    public let kind: Kind

    /// Parses and normalises a number.
    /// - Throws: `DomainError.invalidField(field, reason)` for an empty value, a character other
    ///   than digits, white space, `-`, `(`, `)` and one leading `+`, a mainland number that is
    ///   neither a mobile nor a landline, an international number outside 7–15 digits or
    ///   starting with 0, or a number without a country code that is not a mainland one.
    public init(_ raw: String, field: String = "phone") throws(DomainError) {
        var digits = ""
        var plus = false
        for c in raw {
            if c.isASCII, c.isWholeNumber {
                digits.append(c)
            } else if c == "+", digits.isEmpty, !plus {
                plus = true
            } else if c == "-" || c == "(" || c == ")" || c.isWhitespace {
                continue
            } else {
                throw .invalidField(field: field, reason: .phoneCharacters)
            }
        }
        guard !digits.isEmpty else {
            throw .invalidField(field: field, reason: .phoneEmpty)
        }
        let international: Substring?
        if plus {
            international = Substring(digits)
        } else if digits.hasPrefix("00") {
            international = digits.dropFirst(2)
        } else {
            international = nil
        }
        if let international {
            if international.hasPrefix("86") {
                (e164, kind) = try Self.mainland(international.dropFirst(2), trunkPrefixed: false, field: field)
            } else {
                guard (7...15).contains(international.count), international.first != "0" else {
                    throw .invalidField(field: field, reason: .phoneInternational)
                }
                (e164, kind) = ("+" + international, .international)
            }
        } else if digits.hasPrefix("86") {
            (e164, kind) = try Self.mainland(digits.dropFirst(2), trunkPrefixed: false, field: field)
        } else if digits.hasPrefix("0") {
            (e164, kind) = try Self.mainland(digits.dropFirst(), trunkPrefixed: true, field: field)
        } else if digits.hasPrefix("1") {
            guard Self.isMobile(Substring(digits)) else {
                throw .invalidField(field: field, reason: .phoneMobile)
            }
            (e164, kind) = ("+86" + digits, .mobile)
        } else {
            throw .invalidField(field: field, reason: .phoneNoCountryCode)
        }
    }

    /// Classifies a mainland national significant number. `trunkPrefixed`: the 0 was already
    /// removed; otherwise one leading trunk 0 after the country code is dropped.
    private static func mainland(_ nsnIn: Substring, trunkPrefixed: Bool, field: String) throws(DomainError) -> (String, Kind) {
        var nsn = nsnIn
        if !trunkPrefixed, nsn.hasPrefix("0") { nsn = nsn.dropFirst() }
        if isMobile(nsn) { return ("+86" + nsn, .mobile) }
        if let area = areaCodeLength(nsn), (7...8).contains(nsn.count - area) {
            return ("+86" + nsn, .landline)
        }
        throw .invalidField(field: field, reason: .phoneNotMainland)
    }

    private static func isMobile(_ nsn: Substring) -> Bool {
        let u = Array(nsn.utf8)
        return u.count == 11 && u[0] == UInt8(ascii: "1") && (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(u[1])
    }

    /// Length of the area code without the trunk 0: 2 for `10` (Beijing) and `2x`, 3 for
    /// `3xx`–`9xx`; `nil` when the number cannot be a landline (starts with 0, or with 1
    /// other than 10).
    private static func areaCodeLength(_ nsn: Substring) -> Int? {
        guard let first = nsn.first else { return nil }
        switch first {
        case "0": return nil
        case "1": return nsn.hasPrefix("10") ? 2 : nil
        case "2": return 2
        default: return 3
        }
    }

    /// Whether the number is a mainland (+86) one.
    public var isMainland: Bool { kind != .international }

    /// The national form for a mainland number (`13900000001`, `08776912345` with the trunk 0);
    /// `nil` for an international number.
    public var nationalNumber: String? {
        switch kind {
        case .mobile: String(e164.dropFirst(3))
        case .landline: "0" + e164.dropFirst(3)
        case .international: nil
        }
    }

    /// The landline area code with its trunk 0 (`0877`, `010`); `nil` for other kinds.
    public var areaCode: String? {
        guard kind == .landline else { return nil }
        let nsn = e164.dropFirst(3)
        return "0" + nsn.prefix(Self.areaCodeLength(nsn)!)
    }

    /// Display form with digits hidden (`138****8000`, §5.1.1), via `Masking.phone`.
    public var masked: String { Masking.phone(nationalNumber ?? String(e164.dropFirst())) }

    /// The E.164 form.
    public var description: String { e164 }

    /// Decodes the E.164 string through `init(_:field:)`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let s = try container.decode(String.self)
        do {
            self = try PhoneNumber(s)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the E.164 string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }
}
