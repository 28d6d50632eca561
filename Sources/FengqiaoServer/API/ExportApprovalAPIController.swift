import FengqiaoCore
import FengqiaoStore
import Vapor

/// Export approvals in the JSON API (domain spec §7.3): `POST /export-approvals` asks (body: the
/// export's `filter`, `format`, `purpose`), `GET /export-approvals` lists one's own requests and,
/// for approvers, the pending ones to decide, `POST /export-approvals/{id}/decision` approves or
/// rejects; the download is `POST /residents/export` with `{"approvalId": …}`.
struct ExportApprovalAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.post("export-approvals", access: .permission(.personRead), use: create).idempotent()
        api.get("export-approvals", access: .permission(.personRead), use: list)
        api.get("export-approvals", ":id", access: .permission(.personRead), use: get)
        api.post("export-approvals", ":id", "decision", access: .permission(.exportApprove), use: decide)
    }

    struct ApprovalDTO: Encodable {
        var id: UUID
        var kind: String
        var requesterId: UUID
        var requesterName: String
        var format: String
        var purpose: String
        var rows: Int
        var status: ExportApprovalStatus
        var requestedAt: Date
        var approverName: String?
        var decidedAt: Date?
        var note: String?
        var validUntil: Date?
        var usedAt: Date?

        init(_ a: ExportApproval) {
            id = a.id
            kind = a.kind
            requesterId = a.requesterID
            requesterName = a.requesterName
            format = a.format
            purpose = a.purpose
            rows = a.rows
            status = a.status
            requestedAt = a.requestedAt
            approverName = a.approverName
            decidedAt = a.decidedAt
            note = a.note
            validUntil = a.validUntil
            usedAt = a.usedAt
        }
    }

    struct Lists: Encodable { var mine: [ApprovalDTO]; var toDecide: [ApprovalDTO] }
    struct DecisionIn: Decodable { var approve: Bool?; var note: String? }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let a = try await ExportApprovalService(req.fengqiao).request(try JSONIn.decode(ExportService.Input.self, req), principal: p, actor: req.actor)
        return try JSONOut.response(ApprovalDTO(a), status: .created, location: "/api/v1/export-approvals/\(a.id.uuidString.lowercased())")
    }

    func list(_ req: Request) async throws -> Response {
        let (mine, toDecide) = try await ExportApprovalService(req.fengqiao).lists(principal: try req.requirePrincipal())
        return try JSONOut.response(Lists(mine: mine.map(ApprovalDTO.init), toDecide: toDecide.map(ApprovalDTO.init)))
    }

    func get(_ req: Request) async throws -> Response {
        let a = try await ExportApprovalService(req.fengqiao).find(try req.uuid("id", kind: "export approval"), principal: try req.requirePrincipal())
        return try JSONOut.response(ApprovalDTO(a))
    }

    func decide(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(DecisionIn.self, req)
        guard let approve = i.approve else { throw DomainError.invalidField(field: "approve", reason: "is required (true or false)") }
        let a = try await ExportApprovalService(req.fengqiao).decide(try req.uuid("id", kind: "export approval"), approve: approve, note: i.note,
                                                                    principal: p, actor: req.actor)
        return try JSONOut.response(ApprovalDTO(a))
    }
}
