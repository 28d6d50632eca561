import FengqiaoCore
import FengqiaoStore
import Vapor

/// 矛盾纠纷 pages (issue 4, first slice): the disputes the user may see (mediators: their
/// assigned cases; grid workers: their grid's; officers and governance-centre staff: their
/// community's), and one case with its parties (masked) and timeline. A case out of scope is 404.
/// Opening a case audits the read of its parties, as the API does.
struct DisputeWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("disputes", access: .permission(.disputeRead), use: list)
        routes.get("disputes", ":id", access: .permission(.disputeRead), use: detail)
        routes.post("disputes", ":id", "claim", access: .permission(.subsidyClaim), use: claim)
        try DisputeJointWebController().boot(routes: routes)
        try DisputeActionWebController().boot(routes: routes)
        try IncidentWebController().boot(routes: routes)
    }

    struct Row: Encodable {
        var id: String
        var summary: String
        var category: String
        var state: String
        var risk: String
        var riskCode: String
        var level: String
        var registered: String
        var dueAt: String
    }

    struct ListData: Encodable {
        var rows: [Row]
        var total: Int
        /// 我的待办 (DisputeStatisticsWebController.worklist).
        var worklist: DisputeStatisticsWebController.WorklistData?
        var canRegister: Bool = false
        var notice: String?
    }

    struct PartyRow: Encodable { var name: String; var role: String; var idNumber: String; var phone: String }
    struct TimelineRow: Encodable { var at: String; var actor: String; var kind: String; var state: String; var detail: String }
    struct DetailData: Encodable {
        var d: Row
        var source: String
        var parties: [PartyRow]
        var mediators: String
        var settledLevel: String
        var confirmationDeadline: String
        var timeline: [TimelineRow]
        var joint: DisputeJointWebController.Panel
        /// 一事一案一补: the claim button for a handler of a case closed as resolved with no claim yet.
        var canClaim: Bool
        var claimNotice: String?
        var claimError: String?
        /// The action forms the state and the user allow (`DisputeActionWebController`).
        var actions: DisputeActionWebController.Panel
        /// After a successful action (POST-redirect-GET): what was done.
        var notice: String?
        var canRegister: Bool
    }

    static func stateLabel(_ s: DisputeState, _ t: [String: String]) -> String { t["dispute.state.\(s.rawValue)"] ?? s.rawValue }
    static func levelLabel(_ l: DisputeLevel, _ t: [String: String]) -> String { t["dispute.level.\(l.rawValue)"] ?? l.rawValue }
    static func riskLabel(_ r: RiskGrade, _ t: [String: String]) -> String { t["dispute.risk.\(r.rawValue)"] ?? r.rawValue }

    static func row(_ d: DisputeRecord, _ t: [String: String]) -> Row {
        Row(
            id: d.id.uuidString.lowercased(), summary: d.summary, category: d.category.nameZH, state: stateLabel(d.state, t), risk: riskLabel(d.risk, t),
            riskCode: d.risk.rawValue, level: levelLabel(d.level, t), registered: ImportWebController.time(d.registeredAt),
            dueAt: ImportWebController.time(d.levelDueAt))
    }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let (items, total) = try await DisputeAPIController.service(req).list(access: DisputeService.access(p), state: nil, limit: 200, offset: 0)
        let work = try await DisputeStatisticsWebController.worklist(req, principal: p)
        return try await Page.render(req, "disputes", ListData(
            rows: items.map { Self.row($0, t) }, total: total, worklist: work, canRegister: p.has(.disputeWrite) && p.role != .mediator,
            notice: req.query[String.self, at: "notice"].flatMap { t["dw.notice.\($0)"] }), title: t["dispute.title"]!)
    }

    func detail(_ req: Request) async throws -> Response {
        try await Self.renderDetail(req, id: try req.uuid("id", kind: "dispute"))
    }

    /// The case page; `jointError` shows a refused joint-handling or print form.
    static func renderDetail(
        _ req: Request, id: UUID, jointError: String? = nil, claimError: String? = nil, actionError: DisputeWebErrors.Inline? = nil, values: [String: String] = [:],
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = DisputeAPIController.service(req)
        let v = try await svc.get(id, actor: req.actor, access: DisputeService.access(p))
        let timeline = try await svc.timeline(id, access: DisputeService.access(p))
        let names = try await svc.displayNames(Set(timeline.compactMap(\.actorID)))
        let zh = Page.lang(req) == .zh
        let partyNames = Dictionary(v.parties.map { ($0.id.uuidString.lowercased(), $0.name) }, uniquingKeysWith: { a, _ in a })
        let data = DetailData(
            d: Self.row(v.dispute, t), source: v.dispute.source.nameZH,
            parties: v.parties.map { PartyRow(name: $0.name, role: t["dispute.party.\($0.role.rawValue)"] ?? $0.role.rawValue, idNumber: $0.idNumber.map(Masking.idNumber) ?? "", phone: $0.phone?.masked ?? "") },
            mediators: v.mediators.map(\.name).joined(separator: "、"), settledLevel: v.dispute.settledLevel.map { Self.levelLabel($0, t) } ?? "",
            confirmationDeadline: v.judicialConfirmationDeadline?.description ?? "",
            timeline: timeline.map { TimelineRow(at: ImportWebController.time($0.at), actor: Self.actorLabel($0, names, t), kind: t["dispute.event.\($0.kind)"] ?? $0.kind, state: Self.stateLabel($0.stateAfter, t), detail: TimelineText.dispute($0.detail, zh: zh, parties: partyNames)) },
            joint: try await DisputeJointWebController.panel(req, v, error: jointError),
            canClaim: try await Self.canClaim(req, p, v.dispute, mediators: v.mediators.map(\.accountID), actors: timeline.compactMap(\.actorID)),
            claimNotice: req.query[String.self, at: "notice"] == "claimed" ? t["hz.claimed"] : nil, claimError: claimError,
            actions: try await DisputeActionWebController.panel(req, v, error: actionError, values: values),
            notice: actionError == nil ? req.query[String.self, at: "notice"].flatMap { t["dw.notice.\($0)"] } : nil, canRegister: p.has(.disputeWrite))
        return try await Page.render(req, "dispute", data, title: "\(t["dispute.title"]!) · \(v.dispute.summary)", status: status)
    }

    /// Who did a timeline entry: the account's display name, "系统" for the server's own sweeps
    /// and the command line.
    static func actorLabel(_ e: DisputeTimelineEntry, _ names: [UUID: String], _ t: [String: String]) -> String {
        guard let id = e.actorID, let n = names[id] else { return e.actorName == "system" || e.actorName.hasPrefix("system:") || e.actorName.hasPrefix("cli:") ? t["dw.system"]! : e.actorName }
        return n
    }

    /// Whether the caller may claim the case's subsidy now (§4.4): a claimant role, the case
    /// closed as resolved, the caller among its mediators or timeline actors, no claim yet.
    static func canClaim(_ req: Request, _ p: Principal, _ d: DisputeRecord, mediators: [UUID], actors: [UUID]) async throws -> Bool {
        guard p.has(.subsidyClaim), d.state == .closedResolved, mediators.contains(p.id) || actors.contains(p.id) else { return false }
        return try await GridEventRepository().claim(caseType: .dispute, caseID: d.id, on: req.fengqiao.store.db) == nil
    }

    /// 申领一事一补 for a dispute; a refusal is shown on the case page, naming the field.
    func claim(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        do {
            _ = try await HazardService(req.fengqiao).claim(caseType: .dispute, caseID: id, actor: req.actor, principal: p)
        } catch let e as DomainError {
            switch e {
            case .invalidField, .conflict:
                return try await Self.renderDetail(req, id: id, claimError: e.description, status: .unprocessableEntity)
            case .forbidden(let r):
                return try await Self.renderDetail(req, id: id, claimError: r, status: .forbidden)
            default: throw e
            }
        }
        return req.redirect(to: "/disputes/\(id.uuidString.lowercased())?notice=claimed", redirectType: .normal)
    }
}
