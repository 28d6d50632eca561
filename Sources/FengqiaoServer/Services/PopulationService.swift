import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Standard addresses and actual residents (一标三实): validates in the core, writes and audits
/// in one transaction, and reveals a masked value only with a stated purpose (domain spec §7.3).
public struct PopulationService: Sendable {
    let app: Fengqiao
    let addresses = AddressRepository()
    let residents: ResidentRepository

    public init(_ app: Fengqiao) {
        self.app = app
        self.residents = ResidentRepository(cipher: app.cipher)
    }

    /// The values a caller may reveal.
    public enum RevealField: String, Codable, Sendable, CaseIterable {
        case idNumber, phone
    }

    /// Today in China, the reference day for birth and registration dates.
    static func today(_ now: Date = Date()) -> CalendarDate {
        CalendarDate(now, timeZone: TimeZone(identifier: "Asia/Shanghai") ?? .current)
    }

    // MARK: Addresses

    public func createAddress(_ i: StandardAddress.Input, actor: Actor, visible: VisibleTerritory) async throws -> StandardAddress {
        let a = try i.validated()
        let grid = try await app.territories.grid(a.gridID, visible: visible, on: app.store.db)
        if let bid = a.buildingID {
            guard let b = try await ifFound({ try await app.territories.building(bid, visible: visible, on: app.store.db) }), b.gridID == grid.id else {
                throw DomainError.invalidField(field: "buildingId", reason: "must be a building of grid \(grid.code)")
            }
        }
        try await app.store.write { [app, addresses] db in
            try await addresses.insert(a, on: db)
            _ = try await app.audit.append(Self.createDraft(a, actor: actor), on: db)
        }
        return a
    }

    public func address(_ id: UUID, visible: VisibleTerritory) async throws -> StandardAddress {
        try await addresses.find(id, visible: visible, on: app.store.db)
    }

    public func addresses(gridID: UUID?, visible: VisibleTerritory, limit: Int, offset: Int) async throws -> ([StandardAddress], Int) {
        try await addresses.list(gridID: gridID, visible: visible, limit: limit, offset: offset, on: app.store.db)
    }

    // MARK: Residents

    /// Registers a person at a standard address of the caller's territory.
    /// - Returns: the resident and the warnings that did not stop it (an unknown address code).
    /// - Throws: `DomainError.invalidField` naming the field; `.conflict("idNumber", …)` naming the
    ///   resident that already holds the number (to be verified, never silently duplicated).
    public func createResident(_ i: ActualResident.Input, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Validated<ActualResident> {
        guard let aid = i.residenceAddressId else { throw DomainError.invalidField(field: "residenceAddressId", reason: "is required") }
        let address: StandardAddress
        do {
            address = try await addresses.find(aid, visible: visible, on: app.store.db)
        } catch DomainError.notFound {
            throw DomainError.invalidField(field: "residenceAddressId", reason: "no such address in your territory")
        }
        guard address.status == .active else {
            throw DomainError.invalidField(field: "residenceAddressId", reason: "the address is retired")
        }
        let v = try i.validated(today: Self.today(now), history: try ReferenceData.historicCountyCodes, gridID: address.gridID)
        let r = v.value
        try await app.store.write { [app, residents] db in
            try await residents.lockIDNumber(r.idNumber, on: db)
            if let holder = try await residents.holders(ofIDNumber: r.idNumber, on: db).first {
                let id = holder.id.uuidString.lowercased()
                throw DomainError.conflict(field: "idNumber", reason: holder.addressID == r.residenceAddressID
                    ? "already registered at this address as resident \(id)"
                    : "already registered at another address as resident \(id); flag the record for verification instead of registering the person twice")
            }
            try await residents.insert(r, on: db)
            _ = try await app.audit.append(Self.createDraft(v, actor: actor), on: db)
        }
        return v
    }

    /// The audit record of a new resident: the names of the fields written (never values) and
    /// the names of fields that carried warnings.
    static func createDraft(_ v: Validated<ActualResident>, actor: Actor, detail: String? = nil) -> AuditDraft {
        let r = v.value
        var fields = ["populationType", "hukouSeparated", "idDocType", "idNumber", "name", "sex", "birthDate", "residenceAddressId", "residenceReason", "housingRelation", "registeredAt"]
        if r.ethnicity != nil { fields.append("ethnicity") }
        if r.hukouAddress != nil { fields.append("hukouAddress") }
        if r.employer != nil { fields.append("employer") }
        if r.phone != nil { fields.append("phone") }
        if r.deregisteredAt != nil { fields += ["deregisteredAt", "deregistrationReason"] }
        let notes = [detail, v.warnings.isEmpty ? nil : "warnings: " + v.warnings.map(\.field).joined(separator: ",")].compactMap { $0 }
        return actor.draft(.create, objectType: "resident", objectID: r.id.uuidString.lowercased(), fields: fields,
                           detail: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// The audit record of a new address.
    static func createDraft(_ a: StandardAddress, actor: Actor, detail: String? = nil) -> AuditDraft {
        actor.draft(.create, objectType: "address", objectID: a.id.uuidString.lowercased(),
                    fields: ["gridId", "buildingId", "divisionCode12", "street", "doorplate", "estateName", "building", "unit", "floor", "room"], detail: detail)
    }

    public func resident(_ id: UUID, visible: VisibleTerritory) async throws -> ActualResident {
        try await residents.find(id, visible: visible, on: app.store.db)
    }

    /// One resident shown to a user (record page, API `GET /residents/{id}`), the read written to
    /// the audit trail (domain spec §7.3: every read of sensitive personal information is
    /// recorded, so the audit administrator can list who looked at a given person).
    /// - Throws: `DomainError.notFound` outside the user's territory (nothing recorded).
    public func resident(_ id: UUID, actor: Actor, visible: VisibleTerritory) async throws -> ActualResident {
        let r = try await residents.find(id, visible: visible, on: app.store.db)
        try await app.record(actor.draft(.read, objectType: "resident", objectID: id.uuidString.lowercased(), fields: ["record"]))
        return r
    }

    /// A search or list shown to a user, audited (domain spec §7.3): one `read` record (fields:
    /// the criteria used, never their values). A single resident shown is the record's object;
    /// a page of several names each of them as a subject (M0033, `audit_subjects`), the detail
    /// counting them and carrying a SHA-256 over their sorted ids, so the chained hash covers the
    /// set and listing a person's history still finds the page. Nothing matched: no object, so
    /// probing for a person is recorded too.
    /// - Returns: the page and the total, as `residents(_:visible:)`.
    public func search(_ input: SearchInput, actor: Actor, visible: VisibleTerritory) async throws -> ([ActualResident], Int) {
        let (items, total) = try await residents(try input.query(), visible: visible)
        let criteria = input.criteria
        let detail = input.hasFilter ? "search" : "list"
        var draft: AuditDraft
        switch items.count {
        case 0: draft = actor.draft(.read, objectType: "resident", fields: criteria, detail: "\(detail): no match")
        case 1: draft = actor.draft(.read, objectType: "resident", objectID: items[0].id.uuidString.lowercased(), fields: criteria, detail: detail)
        default:
            let ids = items.map { $0.id.uuidString.lowercased() }.sorted()
            draft = actor.draft(.read, objectType: "resident", fields: criteria, detail: "\(detail): \(ids.count) shown; ids sha256 \(AuditIDsDigest.of(ids))")
            draft.subjects = ids
        }
        try await app.record(draft)
        return (items, total)
    }

    public func residents(_ q: ResidentQuery, visible: VisibleTerritory) async throws -> ([ActualResident], Int) {
        try await residents.list(q, visible: visible, on: app.store.db)
    }

    /// Search input: the exact values travel in a body, never in a URL.
    public struct SearchInput: Codable, Sendable {
        public var idNumber: String?
        public var phone: String?
        public var name: String?
        public var gridId: UUID?
        /// Text contained in the residence address's street, doorplate or estate name.
        public var addressText: String?
        /// The residence address's building element (`3` also finds `3栋`).
        public var building: String?
        /// The building record the residence address is linked to.
        public var buildingId: UUID?
        public var limit: Int?
        public var offset: Int?
        public init(
            idNumber: String? = nil, phone: String? = nil, name: String? = nil, gridId: UUID? = nil, addressText: String? = nil,
            building: String? = nil, buildingId: UUID? = nil, limit: Int? = nil, offset: Int? = nil
        ) {
            self.idNumber = idNumber
            self.phone = phone
            self.name = name
            self.gridId = gridId
            self.addressText = addressText
            self.building = building
            self.buildingId = buildingId
            self.limit = limit
            self.offset = offset
        }

        /// The names of the criteria given (for the audit trail; never their values).
        public var criteria: [String] {
            var c: [String] = []
            let given: (String?) -> Bool = { !($0?.trimmingCharacters(in: .whitespaces).isEmpty ?? true) }
            if given(idNumber) { c.append("idNumber") }
            if given(phone) { c.append("phone") }
            if given(name) { c.append("name") }
            if given(addressText) { c.append("addressText") }
            if given(building) { c.append("building") }
            if buildingId != nil { c.append("buildingId") }
            if gridId != nil { c.append("gridId") }
            return c
        }

        /// Whether any filter is given (an export of the whole territory has none).
        public var hasFilter: Bool {
            [idNumber, phone, name, addressText, building].contains { !($0?.trimmingCharacters(in: .whitespaces).isEmpty ?? true) } || gridId != nil || buildingId != nil
        }

        /// The query: a document number is normalised (trimmed, `x` → `X`, 15 digits upgraded to
        /// 18), a phone to E.164; texts are trimmed and cut to 50 characters.
        /// - Throws: `DomainError.invalidField("phone" | "limit" | "offset", …)`.
        public func query() throws(DomainError) -> ResidentQuery {
            var number: String?
            if let raw = idNumber?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty {
                let up = raw.uppercased()
                number = CitizenIDNumber.upgradeLegacy15(up) ?? up
            }
            var tel: PhoneNumber?
            if let p = phone, !p.trimmingCharacters(in: .whitespaces).isEmpty { tel = try PhoneNumber(p, field: "phone") }
            let l = limit ?? 100
            guard (1...500).contains(l) else { throw .invalidField(field: "limit", reason: "must lie in 1…500") }
            let o = offset ?? 0
            guard o >= 0 else { throw .invalidField(field: "offset", reason: "must not be negative") }
            func text(_ s: String?) -> String? {
                guard let t = s?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
                return String(t.prefix(50))
            }
            return ResidentQuery(
                gridID: gridId, namePrefix: text(name), idNumber: number, phone: tel, addressText: text(addressText), building: text(building),
                buildingID: buildingId, limit: l, offset: o)
        }
    }

    /// Returns one clear value and records who revealed which field of whom and why (never the
    /// value itself).
    /// - Throws: `DomainError.invalidField("purpose" | "field", …)`, `.notFound("resident")`.
    public func reveal(_ id: UUID, field: RevealField?, purpose: String?, actor: Actor, visible: VisibleTerritory) async throws -> String {
        guard let field else { throw DomainError.invalidField(field: "field", reason: "is required (idNumber or phone)") }
        let why = try RevealPurpose.validated(purpose)
        let r = try await residents.find(id, visible: visible, on: app.store.db)
        let value: String
        switch field {
        case .idNumber: value = r.idNumber
        case .phone:
            guard let p = r.phone else { throw DomainError.invalidField(field: "field", reason: "the resident has no phone on record") }
            value = p.nationalNumber ?? p.e164
        }
        try await app.record(actor.draft(.maskReveal, objectType: "resident", objectID: id.uuidString.lowercased(), fields: [field.rawValue], purpose: why))
        return value
    }
}
