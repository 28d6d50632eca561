/// Display masking of personal data (domain spec §5.1.1, [P]; GB/T 35273-2020 display
/// restriction).
public enum Masking {
    /// ID number: first 6 and last 4 kept (`530481********0011`).
    public static func idNumber(_ s: String) -> String {
        let c = Array(s)
        guard c.count > 10 else { return String(repeating: "*", count: c.count) }
        return String(c.prefix(6)) + String(repeating: "*", count: c.count - 10) + String(c.suffix(4))
    }

    /// ID number in low-privilege and public views: first 1 and last 1 kept
    /// (`5****************1`, domain spec §5.1.1 [P]); a value of 2 characters or fewer is
    /// masked entirely.
    public static func idNumberLowPrivilege(_ s: String) -> String {
        let c = Array(s)
        guard c.count > 2 else { return String(repeating: "*", count: c.count) }
        return String(c[0]) + String(repeating: "*", count: c.count - 2) + String(c[c.count - 1])
    }

    /// Mobile phone: 3 + 4 stars + 4 (`138****8000`).
    public static func phone(_ s: String) -> String {
        var digits = Array(s.filter(\.isNumber))
        if digits.count == 13, digits.starts(with: ["8", "6"]) { digits.removeFirst(2) }
        guard digits.count >= 11 else {
            // Short numbers (landlines without area code): keep only the last 2 digits.
            guard digits.count >= 7 else { return String(repeating: "*", count: digits.count) }
            return String(repeating: "*", count: digits.count - 2) + String(digits.suffix(2))
        }
        return String(digits.prefix(3)) + String(repeating: "*", count: digits.count - 7) + String(digits.suffix(4))
    }

    /// Name in public views: first character kept (`张*`, `欧阳**` keeps two for compound surnames
    /// is not decidable from the text alone, so the first only: `欧**`).
    public static func name(_ s: String) -> String {
        guard let first = s.first else { return "" }
        return String(first) + String(repeating: "*", count: max(1, s.count - 1))
    }
}

/// The stated purpose of revealing a masked value (domain spec §7.3, §7.4 purpose limitation).
public enum RevealPurpose {
    /// The purpose, trimmed: 2–200 characters, no control characters (it is written to the
    /// audit trail and shown to auditors as text).
    /// - Throws: `DomainError.invalidField("purpose", …)`.
    public static func validated(_ raw: String?) throws(DomainError) -> String {
        let why = (raw ?? "").trimmed
        guard why.count >= 2 else { throw .invalidField(field: "purpose", reason: "state why the value is needed (at least 2 characters)") }
        guard why.count <= 200 else { throw .invalidField(field: "purpose", reason: "must have at most 200 characters") }
        guard !why.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field: "purpose", reason: "must not contain control characters")
        }
        return why
    }
}
