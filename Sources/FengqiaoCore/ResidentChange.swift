import Foundation

/// The corrections a 核采 visit may make to an actual resident (实有人口, domain spec §3.1):
/// phone, employer (工作单位), residence reason (居住事由), housing relation (与住所关系) and hukou
/// address (户籍地址). Identity fields (name, document, birth date) are not changed this way: a
/// wrong identity is a new registration.
///
/// Each property left `nil` keeps the current value. For the optional text values (`phone`,
/// `employer`, `hukouAddress`) an empty string removes the value.
public struct ResidentChange: Codable, Sendable, Equatable {
    public var phone: String?
    public var employer: String?
    public var residenceReason: ActualResident.ResidenceReason?
    public var housingRelation: ActualResident.HousingRelation?
    public var hukouAddress: String?

    public init(
        phone: String? = nil, employer: String? = nil, residenceReason: ActualResident.ResidenceReason? = nil,
        housingRelation: ActualResident.HousingRelation? = nil, hukouAddress: String? = nil
    ) {
        self.phone = phone
        self.employer = employer
        self.residenceReason = residenceReason
        self.housingRelation = housingRelation
        self.hukouAddress = hukouAddress
    }

    /// The resident with the change applied, and the names of the fields whose value actually
    /// differs (for the audit record, which holds names only, never values — domain spec §7.3).
    /// - Throws: `DomainError.invalidField("phone" | "employer" | "hukouAddress", …)` for a phone
    ///   that is not a Chinese mobile/landline or international number, an employer over 100 or a
    ///   hukou address over 200 characters (the same limits as registration);
    ///   `.conflict("deregisteredAt", …)` for a deregistered resident.
    public func applied(to r: ActualResident) throws(DomainError) -> (resident: ActualResident, changed: [String]) {
        guard r.deregisteredAt == nil else {
            throw .conflict(field: "deregisteredAt", reason: "the resident is deregistered; a deregistered record is not corrected")
        }
        var out = r
        var changed: [String] = []
        if let p = phone {
            let t = p.trimmingCharacters(in: .whitespacesAndNewlines)
            let new: PhoneNumber? = t.isEmpty ? nil : try PhoneNumber(t, field: "phone")
            if new != r.phone {
                out.phone = new
                changed.append("phone")
            }
        }
        if let e = employer {
            let new = try FieldRules.optional(e, field: "employer", max: 100)
            if new != r.employer {
                out.employer = new
                changed.append("employer")
            }
        }
        if let v = residenceReason, v != r.residenceReason {
            out.residenceReason = v
            changed.append("residenceReason")
        }
        if let v = housingRelation, v != r.housingRelation {
            out.housingRelation = v
            changed.append("housingRelation")
        }
        if let h = hukouAddress {
            let new = try FieldRules.optional(h, field: "hukouAddress", max: 200)
            if new != r.hukouAddress {
                out.hukouAddress = new
                changed.append("hukouAddress")
            }
        }
        return (out, changed)
    }
}
