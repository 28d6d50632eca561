import FengqiaoCore
import FengqiaoStore
import Vapor

/// 核采 (verification) marks and work lists, per-grid 一标三实 counts and resident exports in the
/// JSON API, calling the same services as the web pages. No personal value travels in a URL:
/// work lists take only a grid id, exports take their filter in the body.
struct RecordsAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.post("residents", ":id", "verification", access: .permission(.personWrite), use: markResident)
        api.post("addresses", ":id", "verification", access: .permission(.personWrite), use: markAddress)
        api.get("grids", ":id", "verification-list", access: .permission(.personRead), use: workList)
        api.get("grids", ":id", "population-counts", access: .permission(.personRead), use: counts)
        api.post("residents", "export", access: .permission(.personRead), use: export)
    }

    /// A record's 核采 state.
    struct VerificationDTO: Encodable {
        var verifiedAt: Date?
        var verifiedBy: String?
        var verifiedById: UUID?
        var outcome: VerificationOutcome?
        /// When the period runs from: the last verification, else the collection.
        var lastChecked: Date
        var dueAt: Date
        var overdue: Bool

        init(_ s: VerificationState, policy: VerificationPolicy, active: Bool, now: Date = Date()) {
            verifiedAt = s.verifiedAt
            verifiedBy = s.verifiedByName
            verifiedById = s.verifiedByID
            outcome = s.outcome
            lastChecked = s.lastChecked
            dueAt = policy.dueAt(s.lastChecked)
            overdue = active && policy.isOverdue(s, now: now)
        }
    }

    struct ResidentMarked: Encodable {
        var resident: PopulationAPIController.ResidentDTO
        var verification: VerificationDTO
        var changedFields: [String]
    }

    func markResident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "resident")
        let input = try JSONIn.decode(VerificationService.ResidentInput.self, req)
        let svc = VerificationService(req.fengqiao)
        let (r, state, changed) = try await svc.markResident(id, input, actor: req.actor, visible: p.visible)
        return try JSONOut.response(ResidentMarked(
            resident: .init(r), verification: VerificationDTO(state, policy: svc.policy, active: r.deregisteredAt == nil), changedFields: changed))
    }

    struct AddressMarked: Encodable {
        var address: PopulationAPIController.AddressDTO
        var verification: VerificationDTO
    }

    func markAddress(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "address")
        let input = try JSONIn.decode(VerificationService.AddressInput.self, req)
        let svc = VerificationService(req.fengqiao)
        let (a, state) = try await svc.markAddress(id, input, actor: req.actor, visible: p.visible)
        return try JSONOut.response(AddressMarked(address: .init(a), verification: VerificationDTO(state, policy: svc.policy, active: a.status == .active)))
    }

    struct WorkItem: Encodable {
        var resident: PopulationAPIController.ResidentDTO?
        var address: PopulationAPIController.AddressDTO?
        var verification: VerificationDTO
    }

    struct WorkListOut: Encodable {
        var gridId: UUID
        var kind: VerificationService.Kind
        var periodDays: Int
        /// Records last checked before this instant are overdue.
        var cutoff: Date
        var items: [WorkItem]
        var total: Int
    }

    func workList(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let gid = try req.uuid("id", kind: "grid")
        var kind = VerificationService.Kind.residents
        if let k = req.query[String.self, at: "kind"] {
            guard let v = VerificationService.Kind(rawValue: k) else { throw DomainError.invalidField(field: "kind", reason: "must be residents or addresses") }
            kind = v
        }
        let (limit, offset) = try PopulationAPIController.paging(req)
        let svc = VerificationService(req.fengqiao)
        let w = try await svc.workList(gridID: gid, kinds: [kind], visible: p.visible, limit: limit, offset: offset)
        let items: [WorkItem] = kind == .residents
            ? w.residents.map { WorkItem(resident: .init($0.0), verification: VerificationDTO($0.1, policy: svc.policy, active: true)) }
            : w.addresses.map { WorkItem(address: .init($0.0), verification: VerificationDTO($0.1, policy: svc.policy, active: true)) }
        return try JSONOut.response(WorkListOut(
            gridId: w.grid.id, kind: kind, periodDays: svc.policy.periodDays, cutoff: w.cutoff, items: items,
            total: kind == .residents ? w.residentsTotal : w.addressesTotal))
    }

    struct CountsOut: Encodable {
        var gridId: UUID
        var periodDays: Int
        var residents: Int
        var registered: Int
        var migrant: Int
        var foreign: Int
        var hukouSeparated: Int
        var residentsOverdue: Int
        var addresses: Int
        var addressesOverdue: Int
    }

    func counts(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let g = try await app.territories.grid(try req.uuid("id", kind: "grid"), visible: p.visible, on: app.store.db)
        let svc = VerificationService(app)
        let c = try await svc.counts(gridIDs: [g.id])[g.id] ?? GridPopulationCounts(gridID: g.id)
        return try JSONOut.response(CountsOut(
            gridId: g.id, periodDays: svc.policy.periodDays, residents: c.residents, registered: c.registered, migrant: c.migrant, foreign: c.foreign,
            hukouSeparated: c.hukouSeparated, residentsOverdue: c.residentsOverdue, addresses: c.addresses, addressesOverdue: c.addressesOverdue))
    }

    func export(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        struct ExportIn: Decodable { var approvalId: UUID? }
        let input = try JSONIn.decode(ExportIn.self, req)
        let svc = ExportService(req.fengqiao)
        let prepared = try await svc.prepare(approvalID: input.approvalId, principal: p, actor: req.actor, labels: L10n.zh)
        return try await PopulationWebController.fileResponse(prepared, svc)
    }
}
