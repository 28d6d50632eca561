/// A finding that does not reject a value but must be shown to the user (domain spec §5.1:
/// an unknown address code in an ID number is warned about, not rejected; §5.3: a failed USCC
/// check is a warning requiring confirmation, because some real older codes fail it).
public enum ValidationWarning: Sendable, Hashable, CustomStringConvertible {
    /// The 6-digit address code of an ID number is in no known edition of GB/T 2260 (it may be
    /// a residence-permit code 810000/820000/830000, §5.1.3, or a gap in the loaded list).
    case unknownAddressCode(field: String, code: String)
    /// The check character does not match the one computed from the other characters.
    case checkCharacterMismatch(field: String, expected: Character, found: Character)

    /// The API/form field the warning is about.
    public var field: String {
        switch self {
        case .unknownAddressCode(let f, _), .checkCharacterMismatch(let f, _, _): f
        }
    }

    /// Whether the user must confirm the value explicitly before it is saved
    /// (`checkCharacterMismatch`); an unknown address code is only shown.
    public var requiresConfirmation: Bool {
        switch self {
        case .unknownAddressCode: false
        case .checkCharacterMismatch: true
        }
    }

    public var description: String {
        switch self {
        case .unknownAddressCode(let f, let c): "\(f): address code \(c) is not a known division code"
        case .checkCharacterMismatch(let f, let e, let x): "\(f): check character \(x) does not match; expected \(e)"
        }
    }
}

/// A value that passed validation, with the warnings found on the way.
public struct Validated<Value: Sendable>: Sendable {
    /// The validated, normalised value.
    public let value: Value
    /// Findings that do not reject the value; empty when the value is clean.
    public let warnings: [ValidationWarning]

    /// Makes a result.
    public init(value: Value, warnings: [ValidationWarning]) {
        self.value = value
        self.warnings = warnings
    }

    /// Whether any warning needs the user's explicit confirmation before saving.
    public var requiresConfirmation: Bool { warnings.contains(where: \.requiresConfirmation) }
}

extension Validated: Equatable where Value: Equatable {}
extension Validated: Hashable where Value: Hashable {}
