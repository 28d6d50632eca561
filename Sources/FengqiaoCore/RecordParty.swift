import Foundation

/// Validation shared by the people named on 一标三实 records other than the resident record
/// itself: house owners and tenants (实有房屋, domain spec §3.1) and legal representatives of
/// organisations (实有单位, §3.1). A person's document is a GA/T 517 type (§3.9) plus a number;
/// a 公民身份号码 (111/112) is checked by GB 11643-1999 (§5.1), other types by their format.
enum RecordParty {
    /// A document number checked against its type, with the warnings found (an address code in
    /// no edition of GB/T 2260 for a 公民身份号码, §5.1).
    struct Document {
        var type: IdentityDocumentType
        var number: String
        var warnings: [ValidationWarning]
    }

    /// Checks an optional document: both the type and the number, or neither.
    /// - Throws: `DomainError.invalidField(numberField | typeField, …)`.
    static func document(
        type: IdentityDocumentType?, number raw: String?, typeField: String, numberField: String, required: Bool,
        today: CalendarDate, history: some DivisionCodeHistory
    ) throws(DomainError) -> Document? {
        let number = raw?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if number.isEmpty {
            if required { throw .invalidField(field: numberField, reason: .required) }
            if type != nil { throw .invalidField(field: numberField, reason: .requiredWith(typeField)) }
            return nil
        }
        guard let type else { throw .invalidField(field: typeField, reason: .requiredWith(numberField)) }
        if type.usesCitizenIDNumber {
            let v = try CitizenIDNumber.validate(number, today: today, history: history, field: numberField)
            return Document(type: type, number: v.value.value, warnings: v.warnings)
        }
        return Document(type: type, number: try type.validateNumber(number, today: today, field: numberField), warnings: [])
    }

    /// An optional phone (§5.4): empty gives `nil`.
    /// - Throws: `DomainError.invalidField(field, …)` for a number `PhoneNumber` refuses.
    static func phone(_ raw: String?, field: String) throws(DomainError) -> PhoneNumber? {
        guard let p = raw, !p.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return try PhoneNumber(p, field: field)
    }

    /// An optional calendar date `YYYY-MM-DD` (GB/T 7408).
    static func date(_ raw: String?, field: String) throws(DomainError) -> CalendarDate? {
        guard let s = raw?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        guard let d = CalendarDate(iso: s) else { throw .invalidField(field: field, reason: .notADate(s)) }
        return d
    }

    /// A required value.
    static func required<T>(_ v: T?, _ field: String) throws(DomainError) -> T {
        guard let v else { throw .invalidField(field: field, reason: .required) }
        return v
    }

    /// A code or licence number: 1–`max` visible characters (no spaces or control characters),
    /// surrounding white space trimmed; empty gives `nil`.
    static func code(_ raw: String?, field: String, max: Int, uppercased: Bool = false) throws(DomainError) -> String? {
        let s = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if s.isEmpty { return nil }
        guard s.count <= max else { throw .invalidField(field: field, reason: .tooLong(max: max, has: s.count)) }
        guard s.unicodeScalars.allSatisfy(isVisible) else {
            throw .invalidField(field: field, reason: .visibleCharactersOnly)
        }
        return uppercased ? s.uppercased() : s
    }

    private static func isVisible(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator: false
        default: true
        }
    }
}

extension IdentityDocumentType {
    /// A document number of this type masked for display (domain spec §5.1.1 [P]): a
    /// 公民身份号码, or any number over 10 characters, keeps its first 6 and last 4
    /// (`530481********0011`); a shorter number keeps its last 4 at most (at least 2 hidden).
    /// The same rule as `ActualResident.maskedIDNumber`.
    public func masked(_ number: String) -> String {
        if usesCitizenIDNumber || number.count > 10 { return Masking.idNumber(number) }
        let c = Array(number)
        let keep = c.count > 4 ? 4 : max(0, c.count - 2)
        return String(repeating: "*", count: c.count - keep) + String(c.suffix(keep))
    }
}
