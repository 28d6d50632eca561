import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Actual organisations (实有单位, 一标三实, domain spec §3.1): validates in the core (USCC per
/// GB 32100-2015, §5.3), writes and audits in one transaction, keeps the USCC unique among active
/// organisations, and reveals a masked value only with a stated purpose (§7.3). An organisation
/// lies in the territory of its standard address's grid.
public struct OrganizationService: Sendable {
    let app: Fengqiao
    let organizations: OrganizationRepository
    let houses: HouseService

    public init(_ app: Fengqiao) {
        self.app = app
        self.organizations = OrganizationRepository(cipher: app.cipher)
        self.houses = HouseService(app)
    }

    /// The masked values a caller may reveal.
    public enum RevealField: String, Codable, Sendable, CaseIterable {
        case legalRepresentativeIdNumber, legalRepresentativePhone, securityContactPhone
    }

    /// The names of the fields an organisation record carries (never their values).
    static func auditFields(_ o: ActualOrganization) -> [String] {
        var f = ["uscc", "name", "type", "addressId", "legalRepresentativeName", "keyUnit", "status"]
        if o.industry != nil { f += ["industrySection", "industryCode"] }
        if o.legalRepresentative.idNumber != nil { f += ["legalRepresentativeIdDocType", "legalRepresentativeIdNumber"] }
        if o.legalRepresentative.phone != nil { f.append("legalRepresentativePhone") }
        if let c = o.securityContact { f += c.phone == nil ? ["securityContactName"] : ["securityContactName", "securityContactPhone"] }
        if o.employeeCount != nil { f.append("employeeCount") }
        if o.specialTrade != nil { f.append("specialTrade") }
        if !o.licences.isEmpty { f.append("licences") }
        return f
    }

    /// The audit record of a new organisation; a confirmed USCC check mismatch is noted.
    static func createDraft(_ v: Validated<ActualOrganization>, actor: Actor, detail: String? = nil) -> AuditDraft {
        let o = v.value
        let notes = [detail, o.usccCheckConfirmed ? "uscc check mismatch confirmed" : nil,
                     v.warnings.isEmpty ? nil : "warnings: " + v.warnings.map(\.field).joined(separator: ",")].compactMap { $0 }
        return actor.draft(.create, objectType: "organization", objectID: o.id.uuidString.lowercased(), fields: auditFields(o),
                           detail: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// The duplicate check inside a write: an active organisation with the same USCC.
    static func conflict(_ holder: USCCHolder) -> DomainError {
        .conflict(field: "uscc", reason: "already registered as active organization \(holder.id.uuidString.lowercased())")
    }

    /// Registers an organisation at a standard address of the caller's territory.
    /// - Returns: the organisation and the warnings that did not stop it (a confirmed USCC check
    ///   mismatch, an unknown ID-number address code).
    /// - Throws: `DomainError.invalidField` naming the field (`uscc` for a check mismatch without
    ///   `confirmWarnings`; `addressId` for an address outside the territory); `.conflict("uscc", …)`
    ///   naming the active organisation that holds the code.
    public func create(_ i: ActualOrganization.Input, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Validated<ActualOrganization> {
        let address = try await houses.activeAddress(i.addressId, visible: visible)
        let v = try i.validated(today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes, gridID: address.gridID)
        let o = v.value
        try await app.store.write { [app, organizations] db in
            if o.status == .active {
                try await organizations.lockUSCC(o.uscc.value, on: db)
                if let h = try await organizations.activeHolder(ofUSCC: o.uscc.value, on: db) { throw Self.conflict(h) }
            }
            try await organizations.insert(o, on: db, now: now)
            _ = try await app.audit.append(Self.createDraft(v, actor: actor), on: db)
        }
        return v
    }

    public func organization(_ id: UUID, visible: VisibleTerritory) async throws -> ActualOrganization {
        try await organizations.find(id, visible: visible, on: app.store.db)
    }

    public func organizations(_ q: OrganizationQuery, visible: VisibleTerritory) async throws -> ([ActualOrganization], Int) {
        try await organizations.list(q, visible: visible, on: app.store.db)
    }

    /// The keys of `ActualOrganization.Input` (its stored properties, which its synthesised `Codable` uses),
    /// the only keys a merge patch may name.
    static let patchKeys = Set(Mirror(reflecting: ActualOrganization.Input()).children.compactMap(\.label))

    /// Changes an organisation by a JSON merge patch (RFC 7396) over its input
    /// (`ActualOrganization.Input` keys). A new `addressId` must be an active address of the
    /// caller's territory (the organisation moves with it). A changed `uscc` must be confirmed
    /// again if its check character is wrong; an unchanged confirmed code stays accepted.
    /// - Returns: the changed organisation and its warnings.
    /// - Throws: `.notFound("organization")` outside the territory; `.invalidField` naming the
    ///   field; `.conflict("uscc", …)`; `DecodingError` for a value of the wrong type.
    public func update(_ id: UUID, patch: Data, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Validated<ActualOrganization> {
        let current = try await organizations.find(id, visible: visible, on: app.store.db)
        let doc = try JSONMergePatch.Document(patch, allowed: Self.patchKeys)
        var drop: Set<String> = []
        if doc.keys.contains("uscc"), !doc.keys.contains("confirmWarnings") { drop.insert("confirmWarnings") }
        var input = try JSONMergePatch.apply(doc, to: current.input, dropFromBase: drop)
        if !doc.keys.contains("confirmWarnings"),
           let raw = input.uscc, ActualOrganization.normalisedUSCC(raw) == current.uscc.value, current.usccCheckConfirmed {
            input.confirmWarnings = true
        }
        var gridID = current.gridID
        if input.addressId != current.addressID {
            gridID = try await houses.activeAddress(input.addressId, visible: visible).gridID
        }
        let v = try input.validated(today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes, gridID: gridID)
        var patched = v.value
        patched.id = current.id
        let o = patched
        let changed = doc.keys.sorted()
        try await app.store.write { [app, organizations] db in
            if o.status == .active {
                try await organizations.lockUSCC(o.uscc.value, on: db)
                if let h = try await organizations.activeHolder(ofUSCC: o.uscc.value, excluding: o.id, on: db) { throw Self.conflict(h) }
            }
            try await organizations.update(o, on: db, now: now)
            let note = current.status == o.status ? nil : "status \(current.status.rawValue) → \(o.status.rawValue)"
            _ = try await app.audit.append(actor.draft(.update, objectType: "organization", objectID: o.id.uuidString.lowercased(), fields: changed, detail: note), on: db)
        }
        return Validated(value: o, warnings: v.warnings)
    }

    /// Search input: the exact values travel in a body, never in a URL.
    public struct SearchInput: Codable, Sendable {
        /// Exact 统一社会信用代码 (trimmed, upper-cased).
        public var uscc: String?
        /// Name prefix.
        public var name: String?
        /// The legal representative's exact document number.
        public var legalRepresentativeIdNumber: String?
        public var gridId: UUID?
        public var type: ActualOrganization.OrganizationType?
        public var keyUnit: Bool?
        public var specialTrade: ActualOrganization.SpecialTrade?
        public var status: ActualOrganization.Status?
        public var limit: Int?
        public var offset: Int?

        public init(
            uscc: String? = nil, name: String? = nil, legalRepresentativeIdNumber: String? = nil, gridId: UUID? = nil,
            type: ActualOrganization.OrganizationType? = nil, keyUnit: Bool? = nil, specialTrade: ActualOrganization.SpecialTrade? = nil,
            status: ActualOrganization.Status? = nil, limit: Int? = nil, offset: Int? = nil
        ) {
            self.uscc = uscc
            self.name = name
            self.legalRepresentativeIdNumber = legalRepresentativeIdNumber
            self.gridId = gridId
            self.type = type
            self.keyUnit = keyUnit
            self.specialTrade = specialTrade
            self.status = status
            self.limit = limit
            self.offset = offset
        }

        /// The query.
        /// - Throws: `DomainError.invalidField("limit" | "offset", …)`.
        public func query() throws(DomainError) -> OrganizationQuery {
            let (l, o) = try RecordRules.check(limit: limit, offset: offset)
            let code = uscc.map(ActualOrganization.normalisedUSCC)
            let n = name?.trimmingCharacters(in: .whitespaces)
            return OrganizationQuery(
                gridID: gridId, type: type, keyUnit: keyUnit, specialTrade: specialTrade, status: status,
                uscc: (code?.isEmpty ?? true) ? nil : code, namePrefix: (n?.isEmpty ?? true) ? nil : String(n!.prefix(100)),
                legalRepresentativeIDNumber: RecordRules.documentNumber(legalRepresentativeIdNumber), limit: l, offset: o)
        }
    }

    /// Returns one clear value and records who revealed which field of which organisation and
    /// why, never the value.
    /// - Throws: `DomainError.invalidField("purpose" | "field", …)`, `.notFound("organization")`.
    public func reveal(_ id: UUID, field: RevealField?, purpose: String?, actor: Actor, visible: VisibleTerritory) async throws -> String {
        guard let field else {
            throw DomainError.invalidField(field: "field", reason: "is required (legalRepresentativeIdNumber, legalRepresentativePhone or securityContactPhone)")
        }
        let why = try RecordRules.purpose(purpose)
        let o = try await organizations.find(id, visible: visible, on: app.store.db)
        let value: String?
        switch field {
        case .legalRepresentativeIdNumber: value = o.legalRepresentative.idNumber
        case .legalRepresentativePhone: value = o.legalRepresentative.phone.map { $0.nationalNumber ?? $0.e164 }
        case .securityContactPhone: value = o.securityContact?.phone.map { $0.nationalNumber ?? $0.e164 }
        }
        guard let value else { throw DomainError.invalidField(field: "field", reason: "no \(field.rawValue) on record") }
        try await app.record(actor.draft(.maskReveal, objectType: "organization", objectID: id.uuidString.lowercased(), fields: [field.rawValue], purpose: why))
        return value
    }
}
