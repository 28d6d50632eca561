import FengqiaoCore
import FengqiaoStore
import Vapor

/// 导出审批 pages (domain spec §7.3): the population and grid pages submit an export request;
/// `/exports` lists one's own requests (an approved one has its download button) and, for
/// approvers, the pending requests of others in their territory with approve / reject forms.
struct ExportApprovalWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post("population", "export-requests", access: .permission(.personRead), use: request)
        routes.get("exports", access: .permission(.personRead), use: page)
        routes.post("exports", ":id", "decision", access: .permission(.exportApprove), use: decide)
        routes.post("exports", ":id", "download", access: .permission(.personRead), use: download)
    }

    struct Row: Encodable {
        var id: String
        var requester: String
        var requestedAt: String
        var rows: Int
        var format: String
        var purpose: String
        var status: String
        var statusLabel: String
        var approver: String?
        var note: String?
        var validUntil: String?
        var downloadable: Bool
    }

    struct Data: Encodable {
        var mine: [Row]
        var toDecide: [Row]
        var canDecide: Bool
        var notice: String?
        var formError: FormError?
    }

    static func row(_ a: ExportApproval, _ t: [String: String], now: Date = Date()) -> Row {
        let expired = a.status == .approved && (a.validUntil.map { now >= $0 } ?? false)
        return Row(
            id: a.id.uuidString.lowercased(), requester: a.requesterName, requestedAt: ExportService.stamp(a.requestedAt, "yyyy-MM-dd HH:mm"),
            rows: a.rows, format: a.format.uppercased(), purpose: a.purpose, status: a.status.rawValue,
            statusLabel: expired ? (t["xa.expired"] ?? "expired") : (t["xa.st.\(a.status.rawValue)"] ?? a.status.rawValue),
            approver: a.approverName, note: a.note, validUntil: a.validUntil.map { ExportService.stamp($0, "yyyy-MM-dd HH:mm") },
            downloadable: a.status == .approved && !expired)
    }

    func render(_ req: Request, notice: String? = nil, formError: FormError? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let (mine, toDecide) = try await ExportApprovalService(req.fengqiao).lists(principal: p)
        let data = Data(mine: mine.map { Self.row($0, t) }, toDecide: toDecide.map { Self.row($0, t) }, canDecide: p.has(.exportApprove),
                        notice: notice, formError: formError)
        return try await Page.render(req, "exports", data, title: t["xa.title"]!, status: status)
    }

    func page(_ req: Request) async throws -> Response {
        let t = Page.t(req)
        let notice = req.query[String.self, at: "done"].flatMap { $0 == "requested" ? t["xa.requested"] : $0 == "decided" ? t["xa.decided"] : nil }
        return try await render(req, notice: notice)
    }

    /// The export form of the population search and grid pages: records a request.
    func request(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = PopulationWebController.values(req)
        do {
            let filter = PopulationService.SearchInput(
                name: v["name"], gridId: try TerritoryWebController.uuidField(v["gridId"], "gridId"), addressText: v["addressText"], building: v["building"],
                buildingId: try TerritoryWebController.uuidField(v["buildingId"], "buildingId"))
            let input = ExportService.Input(filter: filter, format: v["format"].flatMap(ExportService.Format.init(rawValue:)), purpose: v["purpose"])
            _ = try await ExportApprovalService(req.fengqiao).request(input, principal: p, actor: req.actor)
        } catch {
            guard let fe = PopulationWebController.formError(error, form: "export", values: v) else { throw error }
            return try await render(req, formError: fe, status: .unprocessableEntity)
        }
        return req.redirect(to: "/exports?done=requested")
    }

    func decide(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = PopulationWebController.values(req)
        let id = try req.uuid("id", kind: "export approval")
        do {
            _ = try await ExportApprovalService(req.fengqiao).decide(id, approve: v["decision"] == "approve", note: v["note"], principal: p, actor: req.actor)
        } catch {
            guard let fe = PopulationWebController.formError(error, form: "decision-\(id.uuidString.lowercased())", values: v) else { throw error }
            return try await render(req, formError: fe, status: .unprocessableEntity)
        }
        return req.redirect(to: "/exports?done=decided")
    }

    /// The one download an approval allows.
    func download(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "export approval")
        let svc = ExportService(req.fengqiao)
        let prepared: ExportService.Prepared
        do {
            prepared = try await svc.prepare(approvalID: id, principal: p, actor: req.actor, labels: Page.t(req))
        } catch {
            guard let fe = PopulationWebController.formError(error, form: "download-\(id.uuidString.lowercased())", values: [:]) else { throw error }
            return try await render(req, formError: fe, status: .unprocessableEntity)
        }
        return try await PopulationWebController.fileResponse(prepared, svc)
    }
}
