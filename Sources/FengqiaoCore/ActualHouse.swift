import Foundation

/// A floor area in square metres with two decimal places (domain spec §3.1: "area (m², 2 dp)"),
/// kept as a whole number of hundredths so it never drifts through binary floating point.
/// Range: 0.01 m² to 1,000,000.00 m².
public struct FloorArea: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The area in hundredths of a square metre (`8550` = 85.50 m²).
    public let hundredths: Int

    /// The largest area accepted (1,000,000 m², a sanity bound for one dwelling or unit).
    public static let maximumHundredths = 100_000_000

    /// Makes an area from hundredths of a square metre.
    /// - Throws: `DomainError.invalidField(field, …)` unless 1 ≤ `hundredths` ≤ 100,000,000.
    public init(hundredths: Int, field: String = "area") throws(DomainError) {
        guard hundredths > 0 else { throw .invalidField(field: field, reason: .areaNotPositive) }
        guard hundredths <= Self.maximumHundredths else { throw .invalidField(field: field, reason: .areaTooLarge) }
        self.hundredths = hundredths
    }

    /// Makes an area from square metres as sent in JSON (`85.5`).
    /// - Throws: `DomainError.invalidField(field, …)` for a value that is not finite, not
    ///   positive, over 1,000,000 or with more than two decimal places (`85.555`).
    public init(squareMetres: Double, field: String = "area") throws(DomainError) {
        guard squareMetres.isFinite else { throw .invalidField(field: field, reason: .areaNotANumber) }
        let scaled = squareMetres * 100
        let whole = scaled.rounded()
        guard abs(scaled - whole) < 1e-6 * max(1, abs(scaled)) else {
            throw .invalidField(field: field, reason: .areaDecimals)
        }
        guard whole <= Double(Self.maximumHundredths) else { throw .invalidField(field: field, reason: .areaTooLarge) }
        try self.init(hundredths: Int(whole), field: field)
    }

    /// Parses decimal text as written in a file (`85.5`, `85.50`, `120`); a trailing `m²`,
    /// `㎡` or `平方米` is ignored.
    /// - Throws: `DomainError.invalidField(field, …)` for anything else, or as `init(hundredths:)`.
    public init(text raw: String, field: String = "area") throws(DomainError) {
        var s = raw.trimmingCharacters(in: .whitespaces)
        for unit in ["平方米", "㎡", "m²", "m2"] where s.hasSuffix(unit) { s = String(s.dropLast(unit.count)).trimmingCharacters(in: .whitespaces) }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 9,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isWholeNumber } })
        else { throw .invalidField(field: field, reason: .areaText(raw)) }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 2 else { throw .invalidField(field: field, reason: .areaDecimals) }
        let padded = fraction + String(repeating: "0", count: 2 - fraction.count)
        try self.init(hundredths: Int(parts[0])! * 100 + Int(padded)!, field: field)
    }

    /// The area in square metres.
    public var squareMetres: Double { Double(hundredths) / 100 }

    /// `85.50`.
    public var description: String {
        let frac = hundredths % 100
        return "\(hundredths / 100)." + (frac < 10 ? "0" : "") + String(frac)
    }

    public static func < (a: FloorArea, b: FloorArea) -> Bool { a.hundredths < b.hundredths }

    /// Decodes a JSON number of square metres through `init(squareMetres:)`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let v = try c.decode(Double.self)
        do { self = try FloorArea(squareMetres: v) } catch {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: error.description)
        }
    }

    /// Encodes a JSON number of square metres (`85.5`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(squareMetres)
    }
}

/// 实有房屋 — a building or dwelling unit at a standard address, with its owner and how it is
/// used; when rented, the tenancy and its tenants (一标三实, domain spec §3.1 "ActualHouse").
///
/// Field list after the spec (from the GB/T 31000-2015 practice form `addHouse.vue`: 房主, 是否
/// 租赁, 出租用途, 承租人 [V as practice]); the codes are project codes [P]. The owner's and the
/// tenants' document numbers and phones are personal information the store keeps encrypted
/// (§7.1 PIPL Art. 51, §7.2 数据保密性); display them through the `masked…` properties unless the
/// caller revealed them with a stated purpose (§7.3).
///
/// Invariant: `tenancy != nil` exactly when `occupancy == .rented`.
public struct ActualHouse: Codable, Sendable, Equatable, Identifiable {
    /// 房屋用途 (domain spec §3.1 [P]).
    public enum Use: String, Codable, Sendable, CaseIterable {
        case residential, commercial, industrial, office, mixed, other
        /// 住宅, 商业, 工业, 办公, 混合, 其他.
        public var chineseName: String {
            switch self {
            case .residential: "住宅"
            case .commercial: "商业"
            case .industrial: "工业"
            case .office: "办公"
            case .mixed: "混合"
            case .other: "其他"
            }
        }
    }

    /// 使用状况 (domain spec §3.1 [P]).
    public enum Occupancy: String, Codable, Sendable, CaseIterable {
        case selfOccupied, rented, vacant, borrowed, organizationUse
        /// 自住, 出租, 空置, 借住, 单位用房.
        public var chineseName: String {
            switch self {
            case .selfOccupied: "自住"
            case .rented: "出租"
            case .vacant: "空置"
            case .borrowed: "借住"
            case .organizationUse: "单位用房"
            }
        }
    }

    /// 出租用途 (domain spec §3.1 [P]; mszz 出租用途 [V as practice]).
    public enum RentalPurpose: String, Codable, Sendable, CaseIterable {
        case living, production, business, storage, mixed
        /// 居住, 生产, 经营, 仓储, 混合.
        public var chineseName: String {
            switch self {
            case .living: "居住"
            case .production: "生产"
            case .business: "经营"
            case .storage: "仓储"
            case .mixed: "混合"
            }
        }
    }

    /// 产权证明类型 (project codes [P]; domain spec §3.1 names only "ownershipCertType").
    public enum OwnershipCertificateType: String, Codable, Sendable, CaseIterable {
        /// 不动产权证书 (since the 2015 unified registration), 房屋所有权证 (older), 购房合同,
        /// 宅基地使用证/农村房屋, 其他.
        case realEstateTitle, houseOwnership, purchaseContract, homestead, other
        public var chineseName: String {
            switch self {
            case .realEstateTitle: "不动产权证书"
            case .houseOwnership: "房屋所有权证"
            case .purchaseContract: "购房合同"
            case .homestead: "宅基地使用证"
            case .other: "其他"
            }
        }
    }

    /// 房主 / 产权人. A person, or an organisation named in `name` without a document.
    public struct Owner: Codable, Sendable, Equatable {
        public var name: String
        /// GA/T 517 document type; present exactly when `idNumber` is.
        public var idDocType: IdentityDocumentType?
        /// The normalised document number.
        public var idNumber: String?
        public var phone: PhoneNumber?
        /// 现住址 (free text): where the owner lives, often not at the house.
        public var currentAddress: String?

        public init(name: String, idDocType: IdentityDocumentType? = nil, idNumber: String? = nil, phone: PhoneNumber? = nil, currentAddress: String? = nil) {
            self.name = name
            self.idDocType = idDocType
            self.idNumber = idNumber
            self.phone = phone
            self.currentAddress = currentAddress
        }

        /// The document number masked for display (`530481********0011`), or `nil`.
        public var maskedIDNumber: String? { idNumber.map { (idDocType ?? .other).masked($0) } }
        /// The phone masked for display (`138****8000`), or `nil`.
        public var maskedPhone: String? { phone?.masked }
    }

    /// 承租人.
    public struct Tenant: Codable, Sendable, Equatable, Identifiable {
        public var id: UUID
        public var name: String
        public var idDocType: IdentityDocumentType
        /// The normalised document number.
        public var idNumber: String
        public var phone: PhoneNumber?
        /// The actual resident (实有人口) record of the same person, if linked.
        public var residentID: UUID?

        public init(id: UUID = UUID(), name: String, idDocType: IdentityDocumentType, idNumber: String, phone: PhoneNumber? = nil, residentID: UUID? = nil) {
            self.id = id
            self.name = name
            self.idDocType = idDocType
            self.idNumber = idNumber
            self.phone = phone
            self.residentID = residentID
        }

        /// The document number masked for display.
        public var maskedIDNumber: String { idDocType.masked(idNumber) }
        /// The phone masked for display, or `nil`.
        public var maskedPhone: String? { phone?.masked }
    }

    /// 出租信息: only for a rented house.
    public struct Tenancy: Codable, Sendable, Equatable {
        public var purpose: RentalPurpose
        /// At least one tenant; no document number twice.
        public var tenants: [Tenant]
        /// 租赁起始日期.
        public var leaseStart: CalendarDate
        /// 租赁截止日期, `nil` for an open-ended lease; never before `leaseStart`.
        public var leaseEnd: CalendarDate?
        /// 群租房: a dwelling let to many unrelated people (partitioned rooms, beds); a
        /// flag set by the collector, watched for fire and public-order risk.
        public var groupRental: Bool

        public init(purpose: RentalPurpose, tenants: [Tenant], leaseStart: CalendarDate, leaseEnd: CalendarDate? = nil, groupRental: Bool = false) {
            self.purpose = purpose
            self.tenants = tenants
            self.leaseStart = leaseStart
            self.leaseEnd = leaseEnd
            self.groupRental = groupRental
        }
    }

    public var id: UUID
    /// 房屋编码: unique among the houses of one address.
    public var houseCode: String
    /// The standard address (→ `StandardAddress`).
    public var addressID: UUID
    /// The grid of `addressID` (data scope).
    public var gridID: UUID
    public var use: Use
    /// 建筑面积, if measured.
    public var area: FloorArea?
    public var ownershipCertificateType: OwnershipCertificateType?
    /// 产权证号; only with a certificate type.
    public var ownershipCertificateNo: String?
    public var owner: Owner
    public var occupancy: Occupancy
    /// Present exactly when `occupancy == .rented`.
    public var tenancy: Tenancy?

    public init(
        id: UUID = UUID(), houseCode: String, addressID: UUID, gridID: UUID, use: Use, area: FloorArea? = nil,
        ownershipCertificateType: OwnershipCertificateType? = nil, ownershipCertificateNo: String? = nil, owner: Owner,
        occupancy: Occupancy, tenancy: Tenancy? = nil
    ) {
        self.id = id
        self.houseCode = houseCode
        self.addressID = addressID
        self.gridID = gridID
        self.use = use
        self.area = area
        self.ownershipCertificateType = ownershipCertificateType
        self.ownershipCertificateNo = ownershipCertificateNo
        self.owner = owner
        self.occupancy = occupancy
        self.tenancy = tenancy
    }

    /// The JSON keys of the rental fields, refused unless `occupancy` is `rented`.
    public static let rentalFields = ["rentalPurpose", "tenants", "leaseStart", "leaseEnd", "groupRental"]

    /// One tenant as a caller sends it.
    public struct TenantInput: Codable, Sendable, Equatable {
        public var name: String?
        public var idDocType: IdentityDocumentType?
        public var idNumber: String?
        public var phone: String?
        /// Links the actual resident of the same person; the service checks it is visible and
        /// holds the same document number.
        public var residentId: UUID?

        public init(name: String? = nil, idDocType: IdentityDocumentType? = nil, idNumber: String? = nil, phone: String? = nil, residentId: UUID? = nil) {
            self.name = name
            self.idDocType = idDocType
            self.idNumber = idNumber
            self.phone = phone
            self.residentId = residentId
        }
    }

    /// What a caller sends to register a house. Dates are `YYYY-MM-DD` strings and the area a
    /// number of square metres, so a wrong value is reported on its field.
    public struct Input: Codable, Sendable, Equatable {
        public var houseCode: String?
        public var addressId: UUID?
        public var use: Use?
        /// Square metres, at most 2 decimal places.
        public var area: Double?
        public var ownershipCertificateType: OwnershipCertificateType?
        public var ownershipCertificateNo: String?
        public var ownerName: String?
        public var ownerIdDocType: IdentityDocumentType?
        public var ownerIdNumber: String?
        public var ownerPhone: String?
        public var ownerCurrentAddress: String?
        public var occupancy: Occupancy?
        public var rentalPurpose: RentalPurpose?
        public var tenants: [TenantInput]?
        public var leaseStart: String?
        public var leaseEnd: String?
        public var groupRental: Bool?

        public init(
            houseCode: String? = nil, addressId: UUID? = nil, use: Use? = nil, area: Double? = nil,
            ownershipCertificateType: OwnershipCertificateType? = nil, ownershipCertificateNo: String? = nil,
            ownerName: String? = nil, ownerIdDocType: IdentityDocumentType? = nil, ownerIdNumber: String? = nil, ownerPhone: String? = nil,
            ownerCurrentAddress: String? = nil, occupancy: Occupancy? = nil, rentalPurpose: RentalPurpose? = nil, tenants: [TenantInput]? = nil,
            leaseStart: String? = nil, leaseEnd: String? = nil, groupRental: Bool? = nil
        ) {
            self.houseCode = houseCode
            self.addressId = addressId
            self.use = use
            self.area = area
            self.ownershipCertificateType = ownershipCertificateType
            self.ownershipCertificateNo = ownershipCertificateNo
            self.ownerName = ownerName
            self.ownerIdDocType = ownerIdDocType
            self.ownerIdNumber = ownerIdNumber
            self.ownerPhone = ownerPhone
            self.ownerCurrentAddress = ownerCurrentAddress
            self.occupancy = occupancy
            self.rentalPurpose = rentalPurpose
            self.tenants = tenants
            self.leaseStart = leaseStart
            self.leaseEnd = leaseEnd
            self.groupRental = groupRental
        }

        /// Checks the input and builds the house (domain spec §3.1, §5.1, §5.4).
        ///
        /// Rules:
        /// * `houseCode` (1–40 visible characters, upper-cased), `addressId`, `use`, `ownerName`
        ///   (≤ 100) and `occupancy` are required;
        /// * `area`: square metres > 0, ≤ 1,000,000, at most 2 decimal places;
        /// * `ownershipCertificateNo` (≤ 50) needs `ownershipCertificateType`;
        /// * the owner's document: type and number together or neither; a 公民身份号码 (111/112)
        ///   is checked by GB 11643-1999 (§5.1), an address code no edition of GB/T 2260 knows is a
        ///   warning; phones per §5.4;
        /// * `occupancy == rented` requires `rentalPurpose`, `leaseStart` and 1–50 `tenants` (each
        ///   with name, document type and number; no number twice), and `leaseEnd ≥ leaseStart`;
        /// * any other occupancy refuses `rentalPurpose`, `leaseStart`, `leaseEnd`, a non-empty
        ///   `tenants` and `groupRental: true`.
        /// - Parameters:
        ///   - today: reference day for the birth dates inside ID numbers.
        ///   - history: every division code that ever existed.
        ///   - gridID: the grid of the address.
        /// - Throws: `DomainError.invalidField(field, reason)` naming the first bad field (in the
        ///   order of `validatedCollectingAll`); tenant fields as `tenants[i].idNumber`.
        public func validated(today: CalendarDate, history: some DivisionCodeHistory, gridID: UUID) throws(DomainError) -> Validated<ActualHouse> {
            do { return try validatedCollectingAll(today: today, history: history, gridID: gridID) } catch { throw error.first }
        }

        /// Checks every field and builds the house; the rules of `validated`. A check that
        /// depends on a bad field is skipped (a lease end is not compared with a bad start).
        /// - Throws: `FieldErrors`, one `DomainError.invalidField` per bad field in field order.
        public func validatedCollectingAll(today: CalendarDate, history: some DivisionCodeHistory, gridID: UUID) throws(FieldErrors) -> Validated<ActualHouse> {
            var c = FieldErrorCollector()
            let code = c.check { () throws(DomainError) in
                try RecordParty.required(try RecordParty.code(houseCode, field: "houseCode", max: 40, uppercased: true), "houseCode")
            }
            let address = c.check { () throws(DomainError) in try RecordParty.required(addressId, "addressId") }
            let houseUse = c.check { () throws(DomainError) in try RecordParty.required(use, "use") }
            var size: FloorArea?
            if let v = area { size = c.check { () throws(DomainError) in try FloorArea(squareMetres: v, field: "area") } }
            let certNo = c.check { () throws(DomainError) in try RecordParty.code(ownershipCertificateNo, field: "ownershipCertificateNo", max: 50) } ?? nil
            if certNo != nil, ownershipCertificateType == nil {
                c.add(.invalidField(field: "ownershipCertificateType", reason: .requiredWith("ownershipCertificateNo")))
            }
            var warnings: [ValidationWarning] = []
            let ownerDoc = c.check { () throws(DomainError) in
                try RecordParty.document(type: ownerIdDocType, number: ownerIdNumber, typeField: "ownerIdDocType", numberField: "ownerIdNumber",
                                         required: false, today: today, history: history)
            } ?? nil
            warnings += ownerDoc?.warnings ?? []
            let owner = c.check { () throws(DomainError) in try FieldRules.name(ownerName, field: "ownerName", max: 100) }
            let phone = c.check { () throws(DomainError) in try RecordParty.phone(ownerPhone, field: "ownerPhone") } ?? nil
            let current = c.check { () throws(DomainError) in try FieldRules.optional(ownerCurrentAddress, field: "ownerCurrentAddress", max: 200) } ?? nil
            let occ = c.check { () throws(DomainError) in try RecordParty.required(occupancy, "occupancy") }
            let tenantInputs = tenants ?? []
            var tenancy: Tenancy?
            if occ == .rented {
                let purpose = c.check { () throws(DomainError) in try RecordParty.required(rentalPurpose, "rentalPurpose") }
                let start = c.check { () throws(DomainError) in try RecordParty.required(try RecordParty.date(leaseStart, field: "leaseStart"), "leaseStart") }
                let end = c.check { () throws(DomainError) in try RecordParty.date(leaseEnd, field: "leaseEnd") } ?? nil
                if let end, let start, end < start {
                    c.add(.invalidField(field: "leaseEnd", reason: .beforeLeaseStart(end.description, start: start.description)))
                }
                var list: [Tenant] = []
                if tenantInputs.isEmpty {
                    c.add(.invalidField(field: "tenants", reason: .tenantRequired))
                } else if tenantInputs.count > 50 {
                    c.add(.invalidField(field: "tenants", reason: .tooManyTenants(tenantInputs.count)))
                } else {
                    var seen: Set<String> = []
                    for (i, t) in tenantInputs.enumerated() {
                        let f = "tenants[\(i)]."
                        let name = c.check { () throws(DomainError) in try FieldRules.name(t.name, field: f + "name", max: 50) }
                        let doc = c.check { () throws(DomainError) in
                            try RecordParty.document(type: t.idDocType, number: t.idNumber, typeField: f + "idDocType", numberField: f + "idNumber",
                                                     required: true, today: today, history: history)
                        } ?? nil
                        if let doc {
                            if seen.insert(doc.number).inserted { warnings += doc.warnings } else {
                                c.add(.invalidField(field: f + "idNumber", reason: .documentNumberTwice))
                            }
                        }
                        let tel = c.check { () throws(DomainError) in try RecordParty.phone(t.phone, field: f + "phone") }
                        if let name, let doc, let tel {
                            list.append(Tenant(name: name, idDocType: doc.type, idNumber: doc.number, phone: tel, residentID: t.residentId))
                        }
                    }
                }
                if let purpose, let start {
                    tenancy = Tenancy(purpose: purpose, tenants: list, leaseStart: start, leaseEnd: end, groupRental: groupRental ?? false)
                }
            } else if let occ {
                let sent: [(String, Bool)] = [
                    ("rentalPurpose", rentalPurpose != nil), ("tenants", !tenantInputs.isEmpty),
                    ("leaseStart", !(leaseStart ?? "").trimmingCharacters(in: .whitespaces).isEmpty),
                    ("leaseEnd", !(leaseEnd ?? "").trimmingCharacters(in: .whitespaces).isEmpty), ("groupRental", groupRental == true),
                ]
                for hit in sent where hit.1 {
                    c.add(.invalidField(field: hit.0, reason: .onlyWhenRented(occ.rawValue)))
                }
            }
            guard c.errors.isEmpty, let code, let address, let houseUse, let owner, let occ, occ != .rented || tenancy != nil else {
                throw FieldErrors(c.errors.isEmpty ? [.invalidField(field: "occupancy", reason: .required)] : c.errors)
            }
            let house = ActualHouse(
                houseCode: code, addressID: address, gridID: gridID, use: houseUse, area: size, ownershipCertificateType: ownershipCertificateType,
                ownershipCertificateNo: certNo, owner: Owner(name: owner, idDocType: ownerDoc?.type, idNumber: ownerDoc?.number, phone: phone, currentAddress: current),
                occupancy: occ, tenancy: tenancy)
            return Validated(value: house, warnings: warnings)
        }
    }

    /// The house as an input (clear values), the base that a merge patch is applied to.
    public var input: Input {
        Input(
            houseCode: houseCode, addressId: addressID, use: use, area: area?.squareMetres, ownershipCertificateType: ownershipCertificateType,
            ownershipCertificateNo: ownershipCertificateNo, ownerName: owner.name, ownerIdDocType: owner.idDocType, ownerIdNumber: owner.idNumber,
            ownerPhone: owner.phone?.e164, ownerCurrentAddress: owner.currentAddress, occupancy: occupancy, rentalPurpose: tenancy?.purpose,
            tenants: tenancy?.tenants.map { TenantInput(name: $0.name, idDocType: $0.idDocType, idNumber: $0.idNumber, phone: $0.phone?.e164, residentId: $0.residentID) },
            leaseStart: tenancy?.leaseStart.description, leaseEnd: tenancy?.leaseEnd?.description, groupRental: tenancy.map(\.groupRental))
    }
}
