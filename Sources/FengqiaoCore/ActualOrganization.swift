import Foundation

/// 实有单位 — an organisation or shop actually operating at a standard address (一标三实,
/// domain spec §3.1 "ActualOrganization").
///
/// Field list after the spec (from the GB/T 31000-2015 practice enterprise form: 统一社会信用
/// 代码, 企业类别, 法定代表人证件代码 per GA/T 517, 治保负责人 [V as practice]); the type,
/// special-trade and licence codes are project codes [P]. The legal representative's document
/// number and the phones are personal information kept encrypted (§7.1 PIPL Art. 51, §7.2);
/// display them through the `masked…` properties unless revealed with a purpose (§7.3).
///
/// The 统一社会信用代码 (GB 32100-2015, §5.3) is unique among active organisations. A code whose
/// check character is wrong is accepted only with an explicit confirmation (`usccCheckConfirmed`),
/// because some real older codes fail the check (§5.3 note).
public struct ActualOrganization: Codable, Sendable, Equatable, Identifiable {
    /// 单位类型 (domain spec §3.1 [P]; GB/T 31000 §5.44 企业类别 not readable).
    public enum OrganizationType: String, Codable, Sendable, CaseIterable {
        case stateOrgan, publicInstitution, enterprise, individualBusiness, socialOrganization, other
        /// 机关, 事业单位, 企业, 个体工商户, 社会组织, 其他.
        public var chineseName: String {
            switch self {
            case .stateOrgan: "机关"
            case .publicInstitution: "事业单位"
            case .enterprise: "企业"
            case .individualBusiness: "个体工商户"
            case .socialOrganization: "社会组织"
            case .other: "其他"
            }
        }
    }

    /// 特种行业 (trades under police licensing, domain spec §3.1 [P]; 旅馆业 under
    /// 旅馆业治安管理办法, §6.1). `nil` on the record means none.
    public enum SpecialTrade: String, Codable, Sendable, CaseIterable {
        case hotel, printing, usedGoods, unlockingService, other
        /// 旅馆业, 印刷业, 旧货业, 开锁业, 其他特种行业.
        public var chineseName: String {
            switch self {
            case .hotel: "旅馆业"
            case .printing: "印刷业"
            case .usedGoods: "旧货业"
            case .unlockingService: "开锁业"
            case .other: "其他特种行业"
            }
        }
    }

    /// Whether the organisation still operates.
    public enum Status: String, Codable, Sendable, CaseIterable {
        case active, closed
        /// 在营, 已注销/歇业.
        public var chineseName: String {
            switch self {
            case .active: "在营"
            case .closed: "已注销/歇业"
            }
        }
    }

    /// Kind of a licence or permit held (project codes [P]).
    public enum LicenceKind: String, Codable, Sendable, CaseIterable {
        case specialTradePermit, fireSafety, foodBusiness, other
        /// 特种行业许可证, 消防安全检查合格证, 食品经营许可证, 其他.
        public var chineseName: String {
            switch self {
            case .specialTradePermit: "特种行业许可证"
            case .fireSafety: "消防安全检查合格证"
            case .foodBusiness: "食品经营许可证"
            case .other: "其他许可证"
            }
        }
    }

    /// A licence number with its kind.
    public struct Licence: Codable, Sendable, Equatable {
        public var kind: LicenceKind
        public var number: String
        public init(kind: LicenceKind, number: String) {
            self.kind = kind
            self.number = number
        }
    }

    /// 法定代表人 (or 负责人/经营者 of an individual business).
    public struct LegalRepresentative: Codable, Sendable, Equatable {
        public var name: String
        /// GA/T 517 document type (domain spec §3.9); present exactly when `idNumber` is.
        public var idDocType: IdentityDocumentType?
        public var idNumber: String?
        public var phone: PhoneNumber?

        public init(name: String, idDocType: IdentityDocumentType? = nil, idNumber: String? = nil, phone: PhoneNumber? = nil) {
            self.name = name
            self.idDocType = idDocType
            self.idNumber = idNumber
            self.phone = phone
        }

        /// The document number masked for display, or `nil`.
        public var maskedIDNumber: String? { idNumber.map { (idDocType ?? .other).masked($0) } }
        /// The phone masked for display, or `nil`.
        public var maskedPhone: String? { phone?.masked }
    }

    /// 治保负责人: the person responsible for security and public order in the organisation.
    public struct SecurityContact: Codable, Sendable, Equatable {
        public var name: String
        public var phone: PhoneNumber?
        public init(name: String, phone: PhoneNumber? = nil) {
            self.name = name
            self.phone = phone
        }
        /// The phone masked for display, or `nil`.
        public var maskedPhone: String? { phone?.masked }
    }

    public var id: UUID
    public var uscc: UnifiedSocialCreditCode
    /// The user confirmed a code whose check character is wrong (§5.3).
    public var usccCheckConfirmed: Bool
    public var name: String
    public var type: OrganizationType
    public var industry: IndustryClassification?
    /// The standard address (→ `StandardAddress`).
    public var addressID: UUID
    /// The grid of `addressID` (data scope).
    public var gridID: UUID
    public var legalRepresentative: LegalRepresentative
    public var securityContact: SecurityContact?
    /// 从业人员数, ≥ 0.
    public var employeeCount: Int?
    /// 重点单位 (key unit for fire and public-order supervision).
    public var keyUnit: Bool
    /// `nil`: no special trade.
    public var specialTrade: SpecialTrade?
    public var licences: [Licence]
    public var status: Status

    public init(
        id: UUID = UUID(), uscc: UnifiedSocialCreditCode, usccCheckConfirmed: Bool = false, name: String, type: OrganizationType,
        industry: IndustryClassification? = nil, addressID: UUID, gridID: UUID, legalRepresentative: LegalRepresentative,
        securityContact: SecurityContact? = nil, employeeCount: Int? = nil, keyUnit: Bool = false, specialTrade: SpecialTrade? = nil,
        licences: [Licence] = [], status: Status = .active
    ) {
        self.id = id
        self.uscc = uscc
        self.usccCheckConfirmed = usccCheckConfirmed
        self.name = name
        self.type = type
        self.industry = industry
        self.addressID = addressID
        self.gridID = gridID
        self.legalRepresentative = legalRepresentative
        self.securityContact = securityContact
        self.employeeCount = employeeCount
        self.keyUnit = keyUnit
        self.specialTrade = specialTrade
        self.licences = licences
        self.status = status
    }

    /// One licence as a caller sends it.
    public struct LicenceInput: Codable, Sendable, Equatable {
        public var kind: LicenceKind?
        public var number: String?
        public init(kind: LicenceKind? = nil, number: String? = nil) {
            self.kind = kind
            self.number = number
        }
    }

    /// What a caller sends to register an organisation.
    public struct Input: Codable, Sendable, Equatable {
        public var uscc: String?
        /// Confirms the warnings of this input (a USCC check-character mismatch, §5.3).
        public var confirmWarnings: Bool?
        public var name: String?
        public var type: OrganizationType?
        /// GB/T 4754 section letter A–T.
        public var industrySection: String?
        /// GB/T 4754 division/group/class code (2–4 digits).
        public var industryCode: String?
        public var addressId: UUID?
        public var legalRepresentativeName: String?
        public var legalRepresentativeIdDocType: IdentityDocumentType?
        public var legalRepresentativeIdNumber: String?
        public var legalRepresentativePhone: String?
        public var securityContactName: String?
        public var securityContactPhone: String?
        public var employeeCount: Int?
        public var keyUnit: Bool?
        public var specialTrade: SpecialTrade?
        public var licences: [LicenceInput]?
        public var status: Status?

        public init(
            uscc: String? = nil, confirmWarnings: Bool? = nil, name: String? = nil, type: OrganizationType? = nil, industrySection: String? = nil,
            industryCode: String? = nil, addressId: UUID? = nil, legalRepresentativeName: String? = nil,
            legalRepresentativeIdDocType: IdentityDocumentType? = nil, legalRepresentativeIdNumber: String? = nil, legalRepresentativePhone: String? = nil,
            securityContactName: String? = nil, securityContactPhone: String? = nil, employeeCount: Int? = nil, keyUnit: Bool? = nil,
            specialTrade: SpecialTrade? = nil, licences: [LicenceInput]? = nil, status: Status? = nil
        ) {
            self.uscc = uscc
            self.confirmWarnings = confirmWarnings
            self.name = name
            self.type = type
            self.industrySection = industrySection
            self.industryCode = industryCode
            self.addressId = addressId
            self.legalRepresentativeName = legalRepresentativeName
            self.legalRepresentativeIdDocType = legalRepresentativeIdDocType
            self.legalRepresentativeIdNumber = legalRepresentativeIdNumber
            self.legalRepresentativePhone = legalRepresentativePhone
            self.securityContactName = securityContactName
            self.securityContactPhone = securityContactPhone
            self.employeeCount = employeeCount
            self.keyUnit = keyUnit
            self.specialTrade = specialTrade
            self.licences = licences
            self.status = status
        }

        /// Checks the input and builds the organisation (domain spec §3.1, §5.1, §5.3, §5.4).
        ///
        /// Rules:
        /// * `uscc` per GB 32100-2015 (§5.3): 18 characters of `0–9 A–Y` without I O S V Z
        ///   (lower case is upper-cased). A wrong check character is a warning that must be
        ///   confirmed with `confirmWarnings: true`; without it the input is refused on `uscc`;
        /// * `name` (≤ 100), `type`, `addressId` and `legalRepresentativeName` (≤ 50) are required;
        /// * industry: `industrySection` A–T and/or `industryCode` (2–4 digits, in the section);
        /// * the legal representative's document: type (GA/T 517) and number together or neither;
        ///   a 公民身份号码 is checked by GB 11643-1999 (§5.1); phones per §5.4;
        /// * `securityContactPhone` needs `securityContactName`;
        /// * `employeeCount` 0…10,000,000; at most 10 `licences`, each with kind and number (≤ 50);
        /// * `status` defaults to `active`.
        /// - Parameters:
        ///   - today: reference day for the birth date inside an ID number.
        ///   - history: every division code that ever existed.
        ///   - gridID: the grid of the address.
        /// - Returns: the organisation and its warnings (a confirmed check mismatch, an unknown
        ///   ID-number address code).
        /// - Throws: `DomainError.invalidField(field, reason)` naming the first bad field (in the
        ///   order of `validatedCollectingAll`).
        public func validated(today: CalendarDate, history: some DivisionCodeHistory, gridID: UUID) throws(DomainError) -> Validated<ActualOrganization> {
            do { return try validatedCollectingAll(today: today, history: history, gridID: gridID) } catch { throw error.first }
        }

        /// Checks every field and builds the organisation; the rules of `validated`.
        /// - Throws: `FieldErrors`, one `DomainError.invalidField` per bad field in field order.
        public func validatedCollectingAll(today: CalendarDate, history: some DivisionCodeHistory, gridID: UUID) throws(FieldErrors) -> Validated<ActualOrganization> {
            var c = FieldErrorCollector()
            var warnings: [ValidationWarning] = []
            let confirmed = confirmWarnings ?? false
            let rawCode = (uscc ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            var code: Validated<UnifiedSocialCreditCode>?
            if rawCode.isEmpty {
                c.add(.invalidField(field: "uscc", reason: .required))
            } else if let v = c.check({ () throws(DomainError) in try UnifiedSocialCreditCode.validate(rawCode, field: "uscc") }) {
                if v.requiresConfirmation, !confirmed {
                    c.add(.invalidField(field: "uscc", reason: .usccCheckUnconfirmed(found: String(v.value.checkCharacter), expected: String(v.value.expectedCheckCharacter))))
                } else {
                    code = v
                    warnings += v.warnings
                }
            }
            let orgName = c.check { () throws(DomainError) in try FieldRules.name(name, field: "name", max: 100) }
            let orgType = c.check { () throws(DomainError) in try RecordParty.required(type, "type") }
            var industry: IndustryClassification?
            let sec = (industrySection ?? "").trimmingCharacters(in: .whitespaces)
            let ind = (industryCode ?? "").trimmingCharacters(in: .whitespaces)
            if !sec.isEmpty || !ind.isEmpty { industry = c.check { () throws(DomainError) in try IndustryClassification(section: sec, code: ind) } }
            let address = c.check { () throws(DomainError) in try RecordParty.required(addressId, "addressId") }
            let doc = c.check { () throws(DomainError) in
                try RecordParty.document(
                    type: legalRepresentativeIdDocType, number: legalRepresentativeIdNumber, typeField: "legalRepresentativeIdDocType",
                    numberField: "legalRepresentativeIdNumber", required: false, today: today, history: history)
            } ?? nil
            warnings += doc?.warnings ?? []
            let repName = c.check { () throws(DomainError) in try FieldRules.name(legalRepresentativeName, field: "legalRepresentativeName", max: 50) }
            let repPhone = c.check { () throws(DomainError) in try RecordParty.phone(legalRepresentativePhone, field: "legalRepresentativePhone") } ?? nil
            var contact: SecurityContact?
            let contactPhone = c.check { () throws(DomainError) in try RecordParty.phone(securityContactPhone, field: "securityContactPhone") }
            let contactName = c.check { () throws(DomainError) in try FieldRules.optional(securityContactName, field: "securityContactName", max: 50) }
            if let n = contactName ?? nil {
                contact = SecurityContact(name: n, phone: contactPhone ?? nil)
            } else if contactName != nil, (contactPhone ?? nil) != nil {
                c.add(.invalidField(field: "securityContactName", reason: .requiredWith("securityContactPhone")))
            }
            if let n = employeeCount, !(0...10_000_000).contains(n) {
                c.add(.invalidField(field: "employeeCount", reason: .outOfRange("0…10000000")))
            }
            let licenceInputs = licences ?? []
            var list: [Licence] = []
            if licenceInputs.count > 10 {
                c.add(.invalidField(field: "licences", reason: .tooManyLicences(licenceInputs.count)))
            } else {
                for (i, l) in licenceInputs.enumerated() {
                    let kind = c.check { () throws(DomainError) in try RecordParty.required(l.kind, "licences[\(i)].kind") }
                    let number = c.check { () throws(DomainError) in
                        try RecordParty.required(try RecordParty.code(l.number, field: "licences[\(i)].number", max: 50), "licences[\(i)].number")
                    }
                    if let kind, let number { list.append(Licence(kind: kind, number: number)) }
                }
            }
            guard c.errors.isEmpty, let code, let orgName, let orgType, let address, let repName else {
                throw FieldErrors(c.errors.isEmpty ? [.invalidField(field: "uscc", reason: .required)] : c.errors)
            }
            let rep = LegalRepresentative(name: repName, idDocType: doc?.type, idNumber: doc?.number, phone: repPhone)
            let org = ActualOrganization(
                uscc: code.value, usccCheckConfirmed: code.requiresConfirmation && confirmed, name: orgName, type: orgType, industry: industry,
                addressID: address, gridID: gridID, legalRepresentative: rep, securityContact: contact, employeeCount: employeeCount,
                keyUnit: keyUnit ?? false, specialTrade: specialTrade, licences: list, status: status ?? .active)
            return Validated(value: org, warnings: warnings)
        }
    }

    /// The organisation as an input (clear values), the base that a merge patch is applied to.
    /// `confirmWarnings` carries `usccCheckConfirmed`, so an unchanged confirmed code stays
    /// accepted.
    public var input: Input {
        Input(
            uscc: uscc.value, confirmWarnings: usccCheckConfirmed ? true : nil, name: name, type: type, industrySection: industry?.section.rawValue,
            industryCode: industry?.code, addressId: addressID, legalRepresentativeName: legalRepresentative.name,
            legalRepresentativeIdDocType: legalRepresentative.idDocType, legalRepresentativeIdNumber: legalRepresentative.idNumber,
            legalRepresentativePhone: legalRepresentative.phone?.e164, securityContactName: securityContact?.name,
            securityContactPhone: securityContact?.phone?.e164, employeeCount: employeeCount, keyUnit: keyUnit, specialTrade: specialTrade,
            licences: licences.map { LicenceInput(kind: $0.kind, number: $0.number) }, status: status)
    }

    /// A USCC as typed, trimmed and upper-cased, for exact search. The code identifies an
    /// organisation, not a person, so it is stored and searched in clear (no blind index).
    public static func normalisedUSCC(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
    }
}
