import FengqiaoCore
import FengqiaoStore
import Vapor

/// Standard addresses and actual residents in the JSON API. Personal values are masked in every
/// answer; `POST /residents/{id}/reveal` returns one clear value with a stated purpose, audited.
/// Exact ID-number and phone searches go in a body (`POST /residents/search`), never in a URL.
struct PopulationAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("addresses", access: .permission(.personRead), use: addresses)
        api.get("addresses", ":id", access: .permission(.personRead), use: address)
        api.post("addresses", access: .permission(.personWrite), use: createAddress).idempotent()
        api.get("residents", access: .permission(.personRead), use: residents)
        api.get("residents", ":id", access: .permission(.personRead), use: resident)
        api.post("residents", access: .permission(.personWrite), use: createResident).idempotent()
        api.post("residents", "search", access: .permission(.personRead), use: search)
        api.post("residents", ":id", "reveal", access: .permission(.piiReveal), use: reveal)
    }

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    /// An address as the API shows it.
    struct AddressDTO: Encodable {
        var id: UUID
        var gridId: UUID
        var buildingId: UUID?
        var divisionCode12: String?
        var street: String
        var doorplate: String
        var estateName: String?
        var building: String
        var unit: String
        var floor: String
        var room: String
        var status: StandardAddress.Status
        var formatted: String

        init(_ a: StandardAddress) {
            id = a.id
            gridId = a.gridID
            buildingId = a.buildingID
            divisionCode12 = a.divisionCode12
            street = a.street
            doorplate = a.doorplate
            estateName = a.estateName
            building = a.building
            unit = a.unit
            floor = a.floor
            room = a.room
            status = a.status
            formatted = a.formatted()
        }
    }

    /// A warning that did not stop a write.
    struct WarningDTO: Encodable {
        var field: String
        var code: String
        var message: String
        init(_ w: ValidationWarning) {
            field = w.field
            switch w {
            case .unknownAddressCode: code = "unknown-address-code"
            case .checkCharacterMismatch: code = "check-character-mismatch"
            }
            message = w.description
        }
    }

    /// A resident as the API shows it: the document number and phone are always masked.
    struct ResidentDTO: Encodable {
        var id: UUID
        var populationType: ActualResident.PopulationType
        var hukouSeparated: Bool
        var idDocType: IdentityDocumentType
        var idDocTypeName: String
        var idNumber: String
        var idNumberLegacy15: Bool
        var name: String
        var sex: Sex
        /// Masked (`1990-**-**`): see `ActualResident.maskedBirthDate`.
        var birthDate: String
        var ethnicity: String?
        var hukouAddress: String?
        var residenceAddressId: UUID
        var gridId: UUID
        var residenceReason: ActualResident.ResidenceReason
        var housingRelation: ActualResident.HousingRelation
        var employer: String?
        var phone: String?
        var registeredAt: CalendarDate
        var deregisteredAt: CalendarDate?
        var deregistrationReason: String?
        var masked = true
        var warnings: [WarningDTO]?

        init(_ r: ActualResident, warnings: [ValidationWarning]? = nil) {
            id = r.id
            populationType = r.populationType
            hukouSeparated = r.hukouSeparated
            idDocType = r.idDocType
            idDocTypeName = r.idDocType.chineseName
            idNumber = r.maskedIDNumber
            idNumberLegacy15 = r.idNumberLegacy15
            name = r.name
            sex = r.sex
            birthDate = r.maskedBirthDate
            ethnicity = r.ethnicity
            hukouAddress = r.hukouAddress
            residenceAddressId = r.residenceAddressID
            gridId = r.gridID
            residenceReason = r.residenceReason
            housingRelation = r.housingRelation
            employer = r.employer
            phone = r.maskedPhone
            registeredAt = r.registeredAt
            deregisteredAt = r.deregisteredAt
            deregistrationReason = r.deregistrationReason
            self.warnings = warnings.map { $0.map(WarningDTO.init) }
        }
    }

    static func paging(_ req: Request) throws -> (Int, Int) {
        let limit = req.query[Int.self, at: "limit"] ?? 100
        guard (1...500).contains(limit) else { throw DomainError.invalidField(field: "limit", reason: "must lie in 1…500") }
        let offset = req.query[Int.self, at: "offset"] ?? 0
        guard offset >= 0 else { throw DomainError.invalidField(field: "offset", reason: "must not be negative") }
        return (limit, offset)
    }

    static func gridFilter(_ req: Request) throws -> UUID? {
        guard let s = req.query[String.self, at: "gridId"] else { return nil }
        guard let id = UUID(uuidString: s) else { throw DomainError.invalidField(field: "gridId", reason: "is not a valid id") }
        return id
    }

    // MARK: Addresses

    func addresses(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (limit, offset) = try Self.paging(req)
        let (items, total) = try await PopulationService(req.fengqiao).addresses(gridID: try Self.gridFilter(req), visible: p.visible, limit: limit, offset: offset)
        return try JSONOut.response(Page(items: items.map(AddressDTO.init), total: total))
    }

    func address(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(AddressDTO(try await PopulationService(req.fengqiao).address(try req.uuid("id", kind: "address"), visible: p.visible)))
    }

    func createAddress(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let a = try await PopulationService(req.fengqiao).createAddress(try JSONIn.decode(StandardAddress.Input.self, req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(AddressDTO(a), status: .created, location: "/api/v1/addresses/\(a.id.uuidString.lowercased())")
    }

    // MARK: Residents

    func residents(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (limit, offset) = try Self.paging(req)
        // Exact values never travel in a URL (access logs, browser history, proxies keep them).
        for key in ["idNumber", "phone"] where req.query[String.self, at: key] != nil {
            throw DomainError.invalidField(field: key, reason: "must not be sent in the URL; use POST /api/v1/residents/search with it in the body")
        }
        let input = PopulationService.SearchInput(
            name: req.query[String.self, at: "q"],
            gridId: try Self.gridFilter(req), limit: limit, offset: offset)
        let (items, total) = try await PopulationService(req.fengqiao).search(input, actor: req.actor, visible: p.visible)
        return try JSONOut.response(Page(items: items.map { ResidentDTO($0) }, total: total))
    }

    func search(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let input = try JSONIn.decode(PopulationService.SearchInput.self, req)
        let (items, total) = try await PopulationService(req.fengqiao).search(input, actor: req.actor, visible: p.visible)
        return try JSONOut.response(Page(items: items.map { ResidentDTO($0) }, total: total))
    }

    func resident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(ResidentDTO(try await PopulationService(req.fengqiao).resident(try req.uuid("id", kind: "resident"), actor: req.actor, visible: p.visible)))
    }

    func createResident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = try await PopulationService(req.fengqiao).createResident(try JSONIn.decode(ActualResident.Input.self, req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(ResidentDTO(v.value, warnings: v.warnings), status: .created, location: "/api/v1/residents/\(v.value.id.uuidString.lowercased())")
    }

    struct RevealIn: Decodable { var field: PopulationService.RevealField?; var purpose: String? }
    struct RevealOut: Encodable { var id: UUID; var field: PopulationService.RevealField; var value: String }

    func reveal(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "resident")
        let i = try JSONIn.decode(RevealIn.self, req)
        let value = try await PopulationService(req.fengqiao).reveal(id, field: i.field, purpose: i.purpose, actor: req.actor, visible: p.visible)
        let res = try JSONOut.response(RevealOut(id: id, field: i.field!, value: value))
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }
}
