import FengqiaoCore
import FengqiaoStore
import Foundation
import NIOFoundationCompat
import Vapor

/// Actual houses (实有房屋) in the JSON API. Owner and tenant ID numbers and phones are masked in
/// every answer; `POST /houses/{id}/reveal` returns one clear value with a stated purpose,
/// audited. Exact ID-number and phone searches go in a body (`POST /houses/search`), never in a
/// URL. A house of another territory answers 404 for reads and writes alike.
struct HouseAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("houses", access: .permission(.personRead), use: list)
        api.post("houses", access: .permission(.personWrite), use: create).idempotent()
        api.post("houses", "search", access: .permission(.personRead), use: search)
        api.get("houses", ":id", access: .permission(.personRead), use: get)
        api.patch("houses", ":id", access: .permission(.personWrite), use: update)
        api.post("houses", ":id", "reveal", access: .permission(.piiReveal), use: reveal)
    }

    typealias WarningDTO = PopulationAPIController.WarningDTO

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    /// A tenant as the API shows it: document number and phone masked.
    struct TenantDTO: Encodable {
        var id: UUID
        var name: String
        var idDocType: IdentityDocumentType
        var idDocTypeName: String
        var idNumber: String
        var phone: String?
        var residentId: UUID?
        init(_ t: ActualHouse.Tenant) {
            id = t.id
            name = t.name
            idDocType = t.idDocType
            idDocTypeName = t.idDocType.chineseName
            idNumber = t.maskedIDNumber
            phone = t.maskedPhone
            residentId = t.residentID
        }
    }

    /// A house as the API shows it: personal values masked.
    struct HouseDTO: Encodable {
        var id: UUID
        var houseCode: String
        var addressId: UUID
        var gridId: UUID
        var use: ActualHouse.Use
        var useName: String
        var area: FloorArea?
        var ownershipCertificateType: ActualHouse.OwnershipCertificateType?
        var ownershipCertificateNo: String?
        var ownerName: String
        var ownerIdDocType: IdentityDocumentType?
        var ownerIdNumber: String?
        var ownerPhone: String?
        var ownerCurrentAddress: String?
        var occupancy: ActualHouse.Occupancy
        var occupancyName: String
        var rentalPurpose: ActualHouse.RentalPurpose?
        var tenants: [TenantDTO]
        var leaseStart: CalendarDate?
        var leaseEnd: CalendarDate?
        var groupRental: Bool
        var masked = true
        var warnings: [WarningDTO]?

        init(_ h: ActualHouse, warnings: [ValidationWarning]? = nil) {
            id = h.id
            houseCode = h.houseCode
            addressId = h.addressID
            gridId = h.gridID
            use = h.use
            useName = h.use.chineseName
            area = h.area
            ownershipCertificateType = h.ownershipCertificateType
            ownershipCertificateNo = h.ownershipCertificateNo
            ownerName = h.owner.name
            ownerIdDocType = h.owner.idDocType
            ownerIdNumber = h.owner.maskedIDNumber
            ownerPhone = h.owner.maskedPhone
            ownerCurrentAddress = h.owner.currentAddress
            occupancy = h.occupancy
            occupancyName = h.occupancy.chineseName
            rentalPurpose = h.tenancy?.purpose
            tenants = (h.tenancy?.tenants ?? []).map(TenantDTO.init)
            leaseStart = h.tenancy?.leaseStart
            leaseEnd = h.tenancy?.leaseEnd
            groupRental = h.tenancy?.groupRental ?? false
            self.warnings = warnings.map { $0.map(WarningDTO.init) }
        }
    }

    static func location(_ id: UUID) -> String { "/api/v1/houses/\(id.uuidString.lowercased())" }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (limit, offset) = try PopulationAPIController.paging(req)
        var occupancy: ActualHouse.Occupancy?
        if let s = req.query[String.self, at: "occupancy"] {
            guard let o = ActualHouse.Occupancy(rawValue: s) else {
                throw DomainError.invalidField(field: "occupancy", reason: .text("must be one of " + ActualHouse.Occupancy.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            occupancy = o
        }
        let input = HouseService.SearchInput(gridId: try PopulationAPIController.gridFilter(req), occupancy: occupancy,
                                             groupRental: try RecordsAPISupport.bool(req, "groupRental"), limit: limit, offset: offset)
        let (items, total) = try await HouseService(req.fengqiao).houses(try input.query(), visible: p.visible)
        return try JSONOut.response(Page(items: items.map { HouseDTO($0) }, total: total))
    }

    func search(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let input = try JSONIn.decode(HouseService.SearchInput.self, req)
        let (items, total) = try await HouseService(req.fengqiao).houses(try input.query(), visible: p.visible)
        return try JSONOut.response(Page(items: items.map { HouseDTO($0) }, total: total))
    }

    func get(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(HouseDTO(try await HouseService(req.fengqiao).house(try req.uuid("id", kind: "house"), visible: p.visible)))
    }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = try await HouseService(req.fengqiao).create(try JSONIn.decode(ActualHouse.Input.self, req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(HouseDTO(v.value, warnings: v.warnings), status: .created, location: Self.location(v.value.id))
    }

    func update(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "house")
        let v = try await HouseService(req.fengqiao).update(id, patch: try RecordsAPISupport.patchBody(req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(HouseDTO(v.value, warnings: v.warnings))
    }

    struct RevealIn: Decodable { var field: HouseService.RevealField?; var tenantId: UUID?; var purpose: String? }
    struct RevealOut: Encodable { var id: UUID; var field: HouseService.RevealField; var tenantId: UUID?; var value: String }

    func reveal(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "house")
        let i = try JSONIn.decode(RevealIn.self, req)
        let value = try await HouseService(req.fengqiao).reveal(id, field: i.field, tenantID: i.tenantId, purpose: i.purpose, actor: req.actor, visible: p.visible)
        let res = try JSONOut.response(RevealOut(id: id, field: i.field!, tenantId: i.tenantId, value: value))
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }
}

/// Request helpers shared by the house and organisation controllers.
enum RecordsAPISupport {
    /// An optional boolean query parameter (`true`/`false`).
    static func bool(_ req: Request, _ name: String) throws -> Bool? {
        guard let s = req.query[String.self, at: name] else { return nil }
        switch s.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw DomainError.invalidField(field: name, reason: "must be true or false")
        }
    }

    /// The raw body of a PATCH: `application/json` or `application/merge-patch+json` (RFC 7396).
    static func patchBody(_ req: Request) throws -> Data {
        guard let ct = req.headers.contentType, ct.type == "application", ct.subType == "json" || ct.subType.hasSuffix("+json") else {
            throw Abort(.unsupportedMediaType, reason: "Send the body as application/merge-patch+json or application/json.")
        }
        guard var body = req.body.data, body.readableBytes > 0 else { throw DomainError.invalidField(field: "body", reason: "is empty") }
        return body.readData(length: body.readableBytes) ?? Data()
    }
}
