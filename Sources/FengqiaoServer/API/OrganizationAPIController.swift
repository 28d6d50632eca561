import FengqiaoCore
import FengqiaoStore
import Vapor

/// Actual organisations (实有单位) in the JSON API. The legal representative's ID number and the
/// phones are masked in every answer; `POST /organizations/{id}/reveal` returns one clear value
/// with a stated purpose, audited. Searches by USCC or ID number go in a body
/// (`POST /organizations/search`). An organisation of another territory answers 404 for reads
/// and writes alike.
struct OrganizationAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("organizations", access: .permission(.personRead), use: list)
        api.post("organizations", access: .permission(.personWrite), use: create).idempotent()
        api.post("organizations", "search", access: .permission(.personRead), use: search)
        api.get("organizations", ":id", access: .permission(.personRead), use: get)
        api.patch("organizations", ":id", access: .permission(.personWrite), use: update)
        api.post("organizations", ":id", "reveal", access: .permission(.piiReveal), use: reveal)
    }

    typealias WarningDTO = PopulationAPIController.WarningDTO

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    /// An organisation as the API shows it: personal values masked.
    struct OrganizationDTO: Encodable {
        var id: UUID
        var uscc: String
        var usccCheckConfirmed: Bool
        var name: String
        var type: ActualOrganization.OrganizationType
        var typeName: String
        var industrySection: String?
        var industrySectionName: String?
        var industryCode: String?
        var addressId: UUID
        var gridId: UUID
        var legalRepresentativeName: String
        var legalRepresentativeIdDocType: IdentityDocumentType?
        var legalRepresentativeIdNumber: String?
        var legalRepresentativePhone: String?
        var securityContactName: String?
        var securityContactPhone: String?
        var employeeCount: Int?
        var keyUnit: Bool
        var specialTrade: ActualOrganization.SpecialTrade?
        var specialTradeName: String?
        var licences: [ActualOrganization.Licence]
        var status: ActualOrganization.Status
        var masked = true
        var warnings: [WarningDTO]?

        init(_ o: ActualOrganization, warnings: [ValidationWarning]? = nil) {
            id = o.id
            uscc = o.uscc.value
            usccCheckConfirmed = o.usccCheckConfirmed
            name = o.name
            type = o.type
            typeName = o.type.chineseName
            industrySection = o.industry?.section.rawValue
            industrySectionName = o.industry?.section.chineseName
            industryCode = o.industry?.code
            addressId = o.addressID
            gridId = o.gridID
            legalRepresentativeName = o.legalRepresentative.name
            legalRepresentativeIdDocType = o.legalRepresentative.idDocType
            legalRepresentativeIdNumber = o.legalRepresentative.maskedIDNumber
            legalRepresentativePhone = o.legalRepresentative.maskedPhone
            securityContactName = o.securityContact?.name
            securityContactPhone = o.securityContact?.maskedPhone
            employeeCount = o.employeeCount
            keyUnit = o.keyUnit
            specialTrade = o.specialTrade
            specialTradeName = o.specialTrade?.chineseName
            licences = o.licences
            status = o.status
            self.warnings = warnings.map { $0.map(WarningDTO.init) }
        }
    }

    static func location(_ id: UUID) -> String { "/api/v1/organizations/\(id.uuidString.lowercased())" }

    static func enumQuery<E: RawRepresentable & CaseIterable>(_ req: Request, _ name: String, as: E.Type) throws -> E? where E.RawValue == String {
        guard let s = req.query[String.self, at: name] else { return nil }
        guard let v = E(rawValue: s) else {
            throw DomainError.invalidField(field: name, reason: .text("must be one of " + E.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        return v
    }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (limit, offset) = try PopulationAPIController.paging(req)
        let input = OrganizationService.SearchInput(
            name: req.query[String.self, at: "q"], gridId: try PopulationAPIController.gridFilter(req),
            type: try Self.enumQuery(req, "type", as: ActualOrganization.OrganizationType.self), keyUnit: try RecordsAPISupport.bool(req, "keyUnit"),
            specialTrade: try Self.enumQuery(req, "specialTrade", as: ActualOrganization.SpecialTrade.self),
            status: try Self.enumQuery(req, "status", as: ActualOrganization.Status.self), limit: limit, offset: offset)
        let (items, total) = try await OrganizationService(req.fengqiao).organizations(try input.query(), visible: p.visible)
        return try JSONOut.response(Page(items: items.map { OrganizationDTO($0) }, total: total))
    }

    func search(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let input = try JSONIn.decode(OrganizationService.SearchInput.self, req)
        let (items, total) = try await OrganizationService(req.fengqiao).organizations(try input.query(), visible: p.visible)
        return try JSONOut.response(Page(items: items.map { OrganizationDTO($0) }, total: total))
    }

    func get(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let o = try await OrganizationService(req.fengqiao).organization(try req.uuid("id", kind: "organization"), visible: p.visible)
        return try JSONOut.response(OrganizationDTO(o))
    }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = try await OrganizationService(req.fengqiao).create(try JSONIn.decode(ActualOrganization.Input.self, req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(OrganizationDTO(v.value, warnings: v.warnings), status: .created, location: Self.location(v.value.id))
    }

    func update(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "organization")
        let v = try await OrganizationService(req.fengqiao).update(id, patch: try RecordsAPISupport.patchBody(req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(OrganizationDTO(v.value, warnings: v.warnings))
    }

    struct RevealIn: Decodable { var field: OrganizationService.RevealField?; var purpose: String? }
    struct RevealOut: Encodable { var id: UUID; var field: OrganizationService.RevealField; var value: String }

    func reveal(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "organization")
        let i = try JSONIn.decode(RevealIn.self, req)
        let value = try await OrganizationService(req.fengqiao).reveal(id, field: i.field, purpose: i.purpose, actor: req.actor, visible: p.visible)
        let res = try JSONOut.response(RevealOut(id: id, field: i.field!, value: value))
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }
}
