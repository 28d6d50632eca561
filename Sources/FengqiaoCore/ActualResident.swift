import Foundation

/// 实有人口 — a person actually living at a standard address (一标三实). Domain spec §3.1.
///
/// The identity document number and the phone are personal information that the store keeps
/// encrypted (domain spec §7.1 PIPL Art. 51, §7.2 数据保密性); display them through `maskedIDNumber`
/// and `maskedPhone` unless the caller has revealed them with a stated purpose (§7.3).
public struct ActualResident: Codable, Sendable, Equatable, Identifiable {
    /// Population type (人口类型): 户籍 / 流动 / 境外 (incl. 港澳台). Domain spec §3.1 (01/02/03).
    public enum PopulationType: String, Codable, Sendable, CaseIterable {
        /// 户籍人口 (01).
        case registered
        /// 流动人口 (02).
        case migrant
        /// 境外人员 (03), including residents of Hong Kong, Macao and Taiwan.
        case foreign
    }

    /// 居住事由 (project codes, domain spec §3.1 [P]).
    public enum ResidenceReason: String, Codable, Sendable, CaseIterable {
        /// 务工, 经商, 就学, 投靠亲友/随迁, 婚嫁, 就医, 探亲/旅游, 其他.
        case work, business, study, family, marriage, medical, visit, other
    }

    /// 与住所关系 (domain spec §3.1, 居住证 "合法稳定住所" categories).
    public enum HousingRelation: String, Codable, Sendable, CaseIterable {
        /// 自有, 租赁, 单位/学校宿舍, 借住亲友, 其他.
        case owner, tenant, dormitory, relative, other
    }

    public var id: UUID
    public var populationType: PopulationType
    /// 人户分离: living away from the hukou address.
    public var hukouSeparated: Bool
    /// GA/T 517 document type.
    public var idDocType: IdentityDocumentType
    /// The normalised document number (an 18-character 公民身份号码 for 111/112).
    public var idNumber: String
    /// Whether a 公民身份号码 was entered in its 15-digit form and upgraded.
    public var idNumberLegacy15: Bool
    public var name: String
    /// GB/T 2261.1 sex; derived from the 公民身份号码 for 111/112.
    public var sex: Sex
    /// Derived from the 公民身份号码 for 111/112.
    public var birthDate: CalendarDate
    /// GB/T 3304 two-digit ethnicity code (`01` 汉族).
    public var ethnicity: String?
    /// 户籍地址 as free text.
    public var hukouAddress: String?
    /// The standard address the person lives at.
    public var residenceAddressID: UUID
    /// The grid of `residenceAddressID` (data scope).
    public var gridID: UUID
    public var residenceReason: ResidenceReason
    public var housingRelation: HousingRelation
    /// 工作单位.
    public var employer: String?
    public var phone: PhoneNumber?
    /// 登记日期.
    public var registeredAt: CalendarDate
    /// 注销日期.
    public var deregisteredAt: CalendarDate?
    /// 注销原因 (GA/T 2000.25: 死亡, 失踪, 迁出本地 …).
    public var deregistrationReason: String?

    public init(
        id: UUID = .timeOrdered(), populationType: PopulationType, hukouSeparated: Bool, idDocType: IdentityDocumentType, idNumber: String,
        idNumberLegacy15: Bool = false, name: String, sex: Sex, birthDate: CalendarDate, ethnicity: String? = nil, hukouAddress: String? = nil,
        residenceAddressID: UUID, gridID: UUID, residenceReason: ResidenceReason, housingRelation: HousingRelation, employer: String? = nil,
        phone: PhoneNumber? = nil, registeredAt: CalendarDate, deregisteredAt: CalendarDate? = nil, deregistrationReason: String? = nil
    ) {
        self.id = id
        self.populationType = populationType
        self.hukouSeparated = hukouSeparated
        self.idDocType = idDocType
        self.idNumber = idNumber
        self.idNumberLegacy15 = idNumberLegacy15
        self.name = name
        self.sex = sex
        self.birthDate = birthDate
        self.ethnicity = ethnicity
        self.hukouAddress = hukouAddress
        self.residenceAddressID = residenceAddressID
        self.gridID = gridID
        self.residenceReason = residenceReason
        self.housingRelation = housingRelation
        self.employer = employer
        self.phone = phone
        self.registeredAt = registeredAt
        self.deregisteredAt = deregisteredAt
        self.deregistrationReason = deregistrationReason
    }

    /// The document number masked for display: a 公民身份号码 keeps the first 6 and last 4
    /// (`530481********0011`, §5.1.1); other numbers keep their last 4 at most.
    /// The birth date as masked views show it: the year only (`1990-**-**`). The full date is the
    /// part of the ID number its mask hides (domain spec §5.1.1), so showing it beside the masked
    /// number would give the number away; it is revealed with the number.
    public var maskedBirthDate: String { String(format: "%04d-**-**", birthDate.year) }

    public var maskedIDNumber: String {
        if idDocType.usesCitizenIDNumber || idNumber.count > 10 { return Masking.idNumber(idNumber) }
        let c = Array(idNumber)
        let keep = c.count > 4 ? 4 : max(0, c.count - 2)
        return String(repeating: "*", count: c.count - keep) + String(c.suffix(keep))
    }

    /// The phone masked for display (`138****8000`), or `nil`.
    public var maskedPhone: String? { phone?.masked }

    /// Age in full years on `date` (周岁).
    public func age(on date: CalendarDate) -> Int { birthDate.fullYears(until: date) }

    /// Whether the person is deregistered on `date`.
    public func isDeregistered(on date: CalendarDate) -> Bool { deregisteredAt.map { $0 <= date } ?? false }

    /// The blind-index input for a document number: document numbers are matched by their
    /// normalised value, whatever the type, so a search needs no type.
    public static func indexKey(idNumber: String) -> String { "id:" + idNumber }

    /// The blind-index input for a phone (its E.164 form).
    public static func indexKey(phone: PhoneNumber) -> String { "phone:" + phone.e164 }

    /// What a caller sends to register a person. Dates are `YYYY-MM-DD` strings so a wrong date
    /// is reported on its field.
    public struct Input: Codable, Sendable {
        public var populationType: PopulationType?
        public var hukouSeparated: Bool?
        public var idDocType: IdentityDocumentType?
        public var idNumber: String?
        public var name: String?
        public var sex: Sex?
        public var birthDate: String?
        public var ethnicity: String?
        public var hukouAddress: String?
        public var residenceAddressId: UUID?
        public var residenceReason: ResidenceReason?
        public var housingRelation: HousingRelation?
        public var employer: String?
        public var phone: String?
        public var registeredAt: String?
        public var deregisteredAt: String?
        public var deregistrationReason: String?

        public init(
            populationType: PopulationType? = nil, hukouSeparated: Bool? = nil, idDocType: IdentityDocumentType? = nil, idNumber: String? = nil,
            name: String? = nil, sex: Sex? = nil, birthDate: String? = nil, ethnicity: String? = nil, hukouAddress: String? = nil,
            residenceAddressId: UUID? = nil, residenceReason: ResidenceReason? = nil, housingRelation: HousingRelation? = nil,
            employer: String? = nil, phone: String? = nil, registeredAt: String? = nil, deregisteredAt: String? = nil, deregistrationReason: String? = nil
        ) {
            self.populationType = populationType
            self.hukouSeparated = hukouSeparated
            self.idDocType = idDocType
            self.idNumber = idNumber
            self.name = name
            self.sex = sex
            self.birthDate = birthDate
            self.ethnicity = ethnicity
            self.hukouAddress = hukouAddress
            self.residenceAddressId = residenceAddressId
            self.residenceReason = residenceReason
            self.housingRelation = housingRelation
            self.employer = employer
            self.phone = phone
            self.registeredAt = registeredAt
            self.deregisteredAt = deregisteredAt
            self.deregistrationReason = deregistrationReason
        }

        /// Checks the input and builds the resident (domain spec §3.1, §5.1, §5.4).
        ///
        /// For document types 111/112 the number is a 公民身份号码: sex and birth date come from
        /// it (a `sex` or `birthDate` sent that contradicts it is an error); an address code in
        /// no edition of GB/T 2260 is a warning. For other types `sex` and `birthDate` are required.
        /// `ethnicity` is a GB/T 3304 code or name (`01`, `汉族`, `汉`; see `Ethnicity`), kept as
        /// the two-digit code.
        /// - Parameters:
        ///   - today: the registration day's reference (birth and registration dates may not lie after it).
        ///   - history: every division code that ever existed.
        ///   - gridID: the grid of the residence address.
        /// - Throws: `DomainError.invalidField(field, reason)` naming the first bad field (in the
        ///   order of `validatedCollectingAll`).
        public func validated(today: CalendarDate, history: some DivisionCodeHistory, gridID: UUID) throws(DomainError) -> Validated<ActualResident> {
            do { return try validatedCollectingAll(today: today, history: history, gridID: gridID) } catch { throw error.first }
        }

        /// Checks every field and builds the resident; the rules of `validated`.
        ///
        /// A check that depends on another field is skipped while that field is bad, so one
        /// mistake is reported once: with a bad ID number (111/112) the birth date and sex are
        /// not required (they would come from the number) and not compared with it.
        /// - Throws: `FieldErrors` with one `DomainError.invalidField` per bad field, in field order.
        public func validatedCollectingAll(today: CalendarDate, history: some DivisionCodeHistory, gridID: UUID) throws(FieldErrors) -> Validated<ActualResident> {
            var c = FieldErrorCollector()
            func req<T>(_ v: T?, _ f: String) throws(DomainError) -> T {
                guard let v else { throw .invalidField(field: f, reason: .required) }
                return v
            }
            func date(_ raw: String?, _ f: String) throws(DomainError) -> CalendarDate? {
                guard let s = raw?.trimmed, !s.isEmpty else { return nil }
                guard let d = CalendarDate(iso: s) else { throw .invalidField(field: f, reason: .notADate(s)) }
                return d
            }
            let type = c.check { () throws(DomainError) in try req(populationType, "populationType") }
            let docType = c.check { () throws(DomainError) in try req(idDocType, "idDocType") }
            let rawNumber = c.check { () throws(DomainError) in try req(idNumber, "idNumber") }
            let personName = c.check { () throws(DomainError) in try FieldRules.name(name, field: "name", max: 50) }
            var warnings: [ValidationWarning] = []
            var number: String?
            var legacy = false
            var derivedSex: Sex?
            var derivedBirth: CalendarDate?
            // Whether sex and birth date must be sent (known only with a document type, and not
            // when they would come from a number that is itself bad).
            var needsSexAndBirth = false
            if let docType, let rawNumber {
                if docType.usesCitizenIDNumber {
                    if let v = c.check({ () throws(DomainError) in try CitizenIDNumber.validate(rawNumber, today: today, history: history, field: "idNumber") }) {
                        number = v.value.value
                        legacy = v.value.legacy15
                        derivedSex = v.value.sex
                        derivedBirth = v.value.birthDate
                        warnings += v.warnings
                    }
                } else {
                    number = c.check { () throws(DomainError) in try docType.validateNumber(rawNumber, today: today, field: "idNumber") }
                    needsSexAndBirth = true
                }
            } else if let docType, !docType.usesCitizenIDNumber {
                needsSexAndBirth = true
            }
            let sentBirth = c.check { () throws(DomainError) in try date(birthDate, "birthDate") } ?? nil
            var birthOK = true
            if let d = derivedBirth, let s = sentBirth, s != d {
                c.add(.invalidField(field: "birthDate", reason: .birthDateContradictsIDNumber(given: s.description, derived: d.description)))
                birthOK = false
            }
            if let s = sex, let d = derivedSex, s != d {
                c.add(.invalidField(field: "sex", reason: .sexContradictsIDNumber(given: s, derived: d)))
            }
            var birth = derivedBirth ?? sentBirth
            if birth == nil, needsSexAndBirth, !c.has("birthDate") { c.add(.invalidField(field: "birthDate", reason: .required)) }
            if let b = birth, b > today, birthOK {
                c.add(.invalidField(field: "birthDate", reason: .afterToday(b.description, today: today.description)))
                birth = nil
            }
            let personSex = derivedSex ?? sex
            if personSex == nil, needsSexAndBirth { c.add(.invalidField(field: "sex", reason: .required)) }
            var eth: String?
            if let e = ethnicity?.trimmed, !e.isEmpty {
                if let code = Ethnicity.code(e) { eth = code } else { c.add(.invalidField(field: "ethnicity", reason: .unknownEthnicity(e))) }
            }
            var tel: PhoneNumber?
            if let p = phone, !p.trimmed.isEmpty { tel = c.check { () throws(DomainError) in try PhoneNumber(p, field: "phone") } }
            let sentRegistered = c.check { () throws(DomainError) in try date(registeredAt, "registeredAt") }
            var registered: CalendarDate? = sentRegistered.map { $0 ?? today }
            if let r = registered, r > today {
                c.add(.invalidField(field: "registeredAt", reason: .afterToday(r.description, today: today.description)))
                registered = nil
            } else if let r = registered, let b = birth, r < b {
                c.add(.invalidField(field: "registeredAt", reason: .beforeBirthDate(r.description, birth: b.description)))
                registered = nil
            }
            let dereg = c.check { () throws(DomainError) in try date(deregisteredAt, "deregisteredAt") } ?? nil
            let reason = c.check { () throws(DomainError) in try FieldRules.optional(deregistrationReason, field: "deregistrationReason", max: 100) } ?? nil
            if let d = dereg {
                if let r = registered, d < r {
                    c.add(.invalidField(field: "deregisteredAt", reason: .beforeRegistrationDate(d.description, registered: r.description)))
                } else if d > today {
                    c.add(.invalidField(field: "deregisteredAt", reason: .afterToday(d.description, today: today.description)))
                }
                if reason == nil, !c.has("deregistrationReason") {
                    c.add(.invalidField(field: "deregistrationReason", reason: .requiredWith("deregisteredAt")))
                }
            } else if reason != nil, !c.has("deregisteredAt") {
                c.add(.invalidField(field: "deregisteredAt", reason: .requiredWith("deregistrationReason")))
            }
            let hukou = c.check { () throws(DomainError) in try FieldRules.optional(hukouAddress, field: "hukouAddress", max: 200) } ?? nil
            let address = c.check { () throws(DomainError) in try req(residenceAddressId, "residenceAddressId") }
            let why = c.check { () throws(DomainError) in try req(residenceReason, "residenceReason") }
            let housing = c.check { () throws(DomainError) in try req(housingRelation, "housingRelation") }
            let work = c.check { () throws(DomainError) in try FieldRules.optional(employer, field: "employer", max: 100) } ?? nil
            guard c.errors.isEmpty, let type, let docType, let number, let personName, let birth, let personSex, let registered,
                  let address, let why, let housing
            else {
                // Every path that leaves a value nil records an error; the fallback guards the invariant.
                throw FieldErrors(c.errors.isEmpty ? [.invalidField(field: "idNumber", reason: .required)] : c.errors)
            }
            let resident = ActualResident(
                populationType: type, hukouSeparated: hukouSeparated ?? false, idDocType: docType, idNumber: number, idNumberLegacy15: legacy,
                name: personName, sex: personSex, birthDate: birth, ethnicity: eth, hukouAddress: hukou,
                residenceAddressID: address, gridID: gridID, residenceReason: why, housingRelation: housing,
                employer: work, phone: tel, registeredAt: registered, deregisteredAt: dereg, deregistrationReason: reason)
            return Validated(value: resident, warnings: warnings)
        }
    }
}
