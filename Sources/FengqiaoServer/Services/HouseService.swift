import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Actual houses (实有房屋, 一标三实, domain spec §3.1): validates in the core, writes and
/// audits in one transaction, and reveals a masked owner or tenant value only with a stated
/// purpose (§7.3). A house lies in the territory of its standard address's grid.
public struct HouseService: Sendable {
    let app: Fengqiao
    let houses: HouseRepository
    let addresses = AddressRepository()
    let residents: ResidentRepository

    public init(_ app: Fengqiao) {
        self.app = app
        self.houses = HouseRepository(cipher: app.cipher)
        self.residents = ResidentRepository(cipher: app.cipher)
    }

    /// The masked values a caller may reveal.
    public enum RevealField: String, Codable, Sendable, CaseIterable {
        case ownerIdNumber, ownerPhone, tenantIdNumber, tenantPhone
    }

    /// The address a house is registered at: visible to the caller and active.
    /// - Throws: `DomainError.invalidField("addressId", …)` otherwise (as for residents).
    func activeAddress(_ id: UUID?, visible: VisibleTerritory) async throws -> StandardAddress {
        guard let id else { throw DomainError.invalidField(field: "addressId", reason: .required) }
        let address: StandardAddress
        do {
            address = try await addresses.find(id, visible: visible, on: app.store.db)
        } catch DomainError.notFound {
            throw DomainError.invalidField(field: "addressId", reason: .noSuchAddress)
        }
        guard address.status == .active else { throw DomainError.invalidField(field: "addressId", reason: .addressRetired) }
        return address
    }

    /// Checks the tenants' links to actual residents: each linked resident must be visible and
    /// hold the tenant's document number.
    /// - Throws: `DomainError.invalidField("tenants[i].residentId", …)`.
    func checkResidentLinks(_ h: ActualHouse, visible: VisibleTerritory) async throws {
        for (i, t) in (h.tenancy?.tenants ?? []).enumerated() {
            guard let rid = t.residentID else { continue }
            let field = "tenants[\(i)].residentId"
            let r: ActualResident
            do { r = try await residents.find(rid, visible: visible, on: app.store.db) } catch DomainError.notFound {
                throw DomainError.invalidField(field: field, reason: "no such resident in your territory")
            }
            guard r.idNumber == t.idNumber else {
                throw DomainError.invalidField(field: field, reason: "the resident holds another document number than the tenant")
            }
        }
    }

    /// The names of the fields a house record carries (never their values), for the audit trail.
    static func auditFields(_ h: ActualHouse) -> [String] {
        var f = ["houseCode", "addressId", "use", "ownerName", "occupancy"]
        if h.area != nil { f.append("area") }
        if h.ownershipCertificateType != nil { f.append("ownershipCertificateType") }
        if h.ownershipCertificateNo != nil { f.append("ownershipCertificateNo") }
        if h.owner.idNumber != nil { f += ["ownerIdDocType", "ownerIdNumber"] }
        if h.owner.phone != nil { f.append("ownerPhone") }
        if h.owner.currentAddress != nil { f.append("ownerCurrentAddress") }
        if let t = h.tenancy {
            f += ["rentalPurpose", "tenants", "leaseStart", "groupRental"]
            if t.leaseEnd != nil { f.append("leaseEnd") }
        }
        return f
    }

    /// The audit record of a new house.
    static func createDraft(_ v: Validated<ActualHouse>, actor: Actor, detail: String? = nil) -> AuditDraft {
        let h = v.value
        let notes = [detail, h.tenancy.map { "tenants: \($0.tenants.count)" }, v.warnings.isEmpty ? nil : "warnings: " + v.warnings.map(\.field).joined(separator: ",")]
            .compactMap { $0 }
        return actor.draft(.create, objectType: "house", objectID: h.id.uuidString.lowercased(), fields: auditFields(h), detail: notes.joined(separator: "; "))
    }

    /// Registers a house at a standard address of the caller's territory.
    /// - Returns: the house and the warnings that did not stop it (an unknown ID-number address code).
    /// - Throws: `DomainError.invalidField` naming the field (`addressId` for an address outside
    ///   the territory); `.conflict("houseCode", …)` naming the house already registered with the
    ///   code at the address.
    public func create(_ i: ActualHouse.Input, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Validated<ActualHouse> {
        let address = try await activeAddress(i.addressId, visible: visible)
        let v = try i.validated(today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes, gridID: address.gridID)
        let h = v.value
        try await checkResidentLinks(h, visible: visible)
        try await app.store.write { [app, houses] db in
            try await houses.lockAddress(h.addressID, on: db)
            if let other = try await houses.existing(addressID: h.addressID, houseCode: h.houseCode, on: db) {
                throw DomainError.conflict(field: "houseCode", reason: "already registered at this address as house \(other.uuidString.lowercased())")
            }
            try await houses.insert(h, on: db, now: now)
            _ = try await app.audit.append(Self.createDraft(v, actor: actor), on: db)
        }
        return v
    }

    public func house(_ id: UUID, visible: VisibleTerritory) async throws -> ActualHouse {
        try await houses.find(id, visible: visible, on: app.store.db)
    }

    public func houses(_ q: HouseQuery, visible: VisibleTerritory) async throws -> ([ActualHouse], Int) {
        try await houses.list(q, visible: visible, on: app.store.db)
    }

    /// The keys of `ActualHouse.Input` (its stored properties, which its synthesised `Codable` uses),
    /// the only keys a merge patch may name.
    static let patchKeys = Set(Mirror(reflecting: ActualHouse.Input()).children.compactMap(\.label))

    /// Changes a house by a JSON merge patch (RFC 7396) over its input (`ActualHouse.Input` keys),
    /// typically its occupancy and tenancy. Setting `occupancy` to anything but `rented` drops the
    /// stored rental fields unless the patch sends them (then they are refused). `tenants` is
    /// replaced whole (tenants get new ids). A house cannot move: `addressId` must stay.
    /// - Returns: the changed house and its warnings.
    /// - Throws: `.notFound("house")` outside the territory; `.invalidField` naming the field;
    ///   `.conflict("houseCode", …)`; `DecodingError` for a value of the wrong type.
    public func update(_ id: UUID, patch: Data, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Validated<ActualHouse> {
        let current = try await houses.find(id, visible: visible, on: app.store.db)
        let doc = try JSONMergePatch.Document(patch, allowed: Self.patchKeys)
        var drop: Set<String> = []
        if doc.sets("occupancy"), doc.string("occupancy") != ActualHouse.Occupancy.rented.rawValue {
            drop = Set(ActualHouse.rentalFields)
        }
        let input = try JSONMergePatch.apply(doc, to: current.input, dropFromBase: drop)
        guard input.addressId == current.addressID else {
            throw DomainError.invalidField(field: "addressId", reason: "a house cannot move; register it at the other address")
        }
        let v = try input.validated(today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes, gridID: current.gridID)
        var patched = v.value
        patched.id = current.id
        let h = patched
        try await checkResidentLinks(h, visible: visible)
        let changed = doc.keys.sorted()
        try await app.store.write { [app, houses] db in
            try await houses.lockAddress(h.addressID, on: db)
            if let other = try await houses.existing(addressID: h.addressID, houseCode: h.houseCode, excluding: h.id, on: db) {
                throw DomainError.conflict(field: "houseCode", reason: "already registered at this address as house \(other.uuidString.lowercased())")
            }
            try await houses.update(h, on: db, now: now)
            let note = current.occupancy == h.occupancy ? nil : "occupancy \(current.occupancy.rawValue) → \(h.occupancy.rawValue)"
            _ = try await app.audit.append(actor.draft(.update, objectType: "house", objectID: h.id.uuidString.lowercased(), fields: changed, detail: note), on: db)
        }
        return Validated(value: h, warnings: v.warnings)
    }

    /// Search input: the exact values travel in a body, never in a URL.
    public struct SearchInput: Codable, Sendable {
        /// The owner's or a tenant's document number.
        public var idNumber: String?
        /// The owner's or a tenant's phone.
        public var phone: String?
        public var houseCode: String?
        public var gridId: UUID?
        public var addressId: UUID?
        public var occupancy: ActualHouse.Occupancy?
        public var groupRental: Bool?
        public var limit: Int?
        public var offset: Int?

        public init(
            idNumber: String? = nil, phone: String? = nil, houseCode: String? = nil, gridId: UUID? = nil, addressId: UUID? = nil,
            occupancy: ActualHouse.Occupancy? = nil, groupRental: Bool? = nil, limit: Int? = nil, offset: Int? = nil
        ) {
            self.idNumber = idNumber
            self.phone = phone
            self.houseCode = houseCode
            self.gridId = gridId
            self.addressId = addressId
            self.occupancy = occupancy
            self.groupRental = groupRental
            self.limit = limit
            self.offset = offset
        }

        /// The query: a document number is normalised (trimmed, `x` → `X`, 15 digits upgraded),
        /// a phone to E.164, a house code upper-cased.
        /// - Throws: `DomainError.invalidField("phone" | "limit" | "offset", …)`.
        public func query() throws(DomainError) -> HouseQuery {
            let (l, o) = try RecordRules.check(limit: limit, offset: offset)
            var tel: PhoneNumber?
            if let p = phone, !p.trimmingCharacters(in: .whitespaces).isEmpty { tel = try PhoneNumber(p, field: "phone") }
            let code = houseCode?.trimmingCharacters(in: .whitespaces).uppercased()
            return HouseQuery(gridID: gridId, addressID: addressId, occupancy: occupancy, groupRental: groupRental,
                              houseCode: (code?.isEmpty ?? true) ? nil : code, idNumber: RecordRules.documentNumber(idNumber), phone: tel, limit: l, offset: o)
        }
    }

    /// Returns one clear value and records who revealed which field of which house (and tenant)
    /// and why, never the value.
    /// - Parameter tenantID: the tenant, for `tenantIdNumber` and `tenantPhone`.
    /// - Throws: `DomainError.invalidField("purpose" | "field" | "tenantId", …)`, `.notFound("house")`.
    public func reveal(_ id: UUID, field: RevealField?, tenantID: UUID?, purpose: String?, actor: Actor, visible: VisibleTerritory) async throws -> String {
        guard let field else { throw DomainError.invalidField(field: "field", reason: "is required (ownerIdNumber, ownerPhone, tenantIdNumber or tenantPhone)") }
        let why = try RecordRules.purpose(purpose)
        let h = try await houses.find(id, visible: visible, on: app.store.db)
        var tenant: ActualHouse.Tenant?
        if field == .tenantIdNumber || field == .tenantPhone {
            guard let tenantID else { throw DomainError.invalidField(field: "tenantId", reason: "is required for \(field.rawValue)") }
            guard let t = h.tenancy?.tenants.first(where: { $0.id == tenantID }) else {
                throw DomainError.invalidField(field: "tenantId", reason: "no such tenant of this house")
            }
            tenant = t
        }
        let value: String?
        switch field {
        case .ownerIdNumber: value = h.owner.idNumber
        case .ownerPhone: value = h.owner.phone.map { $0.nationalNumber ?? $0.e164 }
        case .tenantIdNumber: value = tenant?.idNumber
        case .tenantPhone: value = tenant?.phone.map { $0.nationalNumber ?? $0.e164 }
        }
        guard let value else { throw DomainError.invalidField(field: "field", reason: "no \(field.rawValue) on record") }
        try await app.record(actor.draft(.maskReveal, objectType: "house", objectID: id.uuidString.lowercased(), fields: [field.rawValue], purpose: why,
                                         detail: tenant.map { "tenant \($0.id.uuidString.lowercased())" }))
        return value
    }
}

/// Checks shared by the record services' search and reveal inputs.
enum RecordRules {
    /// `limit` 1…500 (default 100), `offset` ≥ 0 (default 0).
    static func check(limit: Int?, offset: Int?) throws(DomainError) -> (Int, Int) {
        let l = limit ?? 100
        guard (1...500).contains(l) else { throw .invalidField(field: "limit", reason: "must lie in 1…500") }
        let o = offset ?? 0
        guard o >= 0 else { throw .invalidField(field: "offset", reason: "must not be negative") }
        return (l, o)
    }

    /// A document number as searched: trimmed, upper-cased, a 15-digit 公民身份号码 upgraded to
    /// 18 characters (§5.1); `nil` when empty.
    static func documentNumber(_ raw: String?) -> String? {
        guard let raw = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
        let up = raw.uppercased()
        return CitizenIDNumber.upgradeLegacy15(up) ?? up
    }

    /// The stated purpose of a reveal (§7.3): 2–200 characters after trimming.
    static func purpose(_ raw: String?) throws(DomainError) -> String {
        try RevealPurpose.validated(raw)
    }
}
