import FengqiaoCore
import FengqiaoStore
import Vapor

/// The buttons of a case page for joint handling with the governance centre (双推送、双盯办、
/// 双化解) and the agreement print (issue 4). Forms post here (CSRF-checked like every form);
/// success returns to the case, bad input shows the case with the error, out of scope is 404.
/// Registered by `DisputeWebController`.
struct DisputeJointWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post("disputes", ":id", "joint", "push", access: .permission(.disputeWrite), use: push)
        routes.post("disputes", ":id", "joint", "supervision", access: .permission(.disputeWrite), use: supervise)
        routes.post("disputes", ":id", "joint", "sign-off", access: .permission(.disputeWrite), use: signOff)
        routes.post("disputes", ":id", "agreement", "print", access: .permission(.disputeWrite), use: print)
    }

    /// The joint panel of the case page.
    struct Panel: Encodable {
        var joint: Bool
        var pushedBy: String
        var policeOwner: String
        var policeDue: String
        var policeSigned: String
        var centreOwner: String
        var centreDue: String
        var centreSigned: String
        var mySide: String
        var canPush: Bool
        var canAct: Bool
        var canPrint: Bool
        var error: String?
    }

    static func panel(_ req: Request, _ v: DisputeService.DisputeView, error: String? = nil) async throws -> Panel {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = DisputeAPIController.service(req)
        let j = try await svc.jointCase(v.dispute.id, access: DisputeService.access(p))
        let side = JointSide.of(p.role)
        let writes = p.has(.disputeWrite)
        func who(_ s: JointSideState?) -> String { s?.ownerName ?? "" }
        func signed(_ s: JointSideState?) -> String { s?.signedOffAt.map { "\(s?.signedOffBy ?? "") \(ImportWebController.time($0))" } ?? "" }
        return Panel(
            joint: j != nil, pushedBy: j.map { t["dispute.joint.side.\($0.pushedBy.rawValue)"] ?? $0.pushedBy.rawValue } ?? "",
            policeOwner: who(j?.police), policeDue: ImportWebController.time(j?.police.dueAt), policeSigned: signed(j?.police),
            centreOwner: who(j?.governanceCentre), centreDue: ImportWebController.time(j?.governanceCentre.dueAt), centreSigned: signed(j?.governanceCentre),
            mySide: side.map { t["dispute.joint.side.\($0.rawValue)"] ?? $0.rawValue } ?? "",
            canPush: writes && side != nil && j == nil && !v.dispute.state.isTerminal,
            canAct: writes && side != nil && j != nil && side.map { j?[$0].signedOff == false } == true,
            canPrint: writes && v.agreement?.agreement.form == .written, error: error)
    }

    static func back(_ id: UUID) -> Response { Response(status: .seeOther, headers: ["Location": "/disputes/\(id.uuidString.lowercased())"]) }

    /// Runs a form action; bad input or a conflict re-renders the case with the message.
    static func act(_ req: Request, _ body: (UUID, [String: String], Principal) async throws -> Void) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        let v = PopulationWebController.values(req)
        do {
            try await body(id, v, p)
            return back(id)
        } catch let e as DomainError {
            switch e {
            case .invalidField, .conflict:
                return try await DisputeWebController.renderDetail(req, id: id, jointError: e.description, status: .unprocessableEntity)
            case .forbidden(let r):
                return try await DisputeWebController.renderDetail(req, id: id, jointError: r, status: .forbidden)
            default: throw e
            }
        }
    }

    /// A date field `YYYY-MM-DD` as the end of that day in China Standard Time.
    static func endOfDay(_ raw: String?, field: String) throws -> Date? {
        guard let s = raw?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        guard let d = CalendarDate(iso: s), let start = cal.date(from: d.dateComponents) else {
            throw DomainError.invalidField(field: field, reason: "is not a calendar date YYYY-MM-DD")
        }
        return start.addingTimeInterval(86_400 - 1)
    }

    func push(_ req: Request) async throws -> Response {
        try await Self.act(req) { id, v, p in
            let i = DisputeService.PushInput(dueAt: try Self.endOfDay(v["dueOn"], field: "dueOn"), note: v["note"])
            _ = try await DisputeAPIController.service(req).push(id, i, actor: req.actor, access: DisputeService.access(p))
        }
    }

    func supervise(_ req: Request) async throws -> Response {
        try await Self.act(req) { id, v, p in
            let i = DisputeService.SuperviseInput(note: v["note"], dueAt: try Self.endOfDay(v["dueOn"], field: "dueOn"))
            _ = try await DisputeAPIController.service(req).supervise(id, i, actor: req.actor, access: DisputeService.access(p))
        }
    }

    func signOff(_ req: Request) async throws -> Response {
        try await Self.act(req) { id, v, p in
            _ = try await DisputeAPIController.service(req).signOff(id, note: v["note"], actor: req.actor, access: DisputeService.access(p))
        }
    }

    func print(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        do {
            return try await AgreementPrint.render(req, id: id, purpose: PopulationWebController.values(req)["purpose"], access: DisputeService.access(p))
        } catch let e as DomainError {
            switch e {
            case .invalidField, .conflict:
                return try await DisputeWebController.renderDetail(req, id: id, jointError: e.description, status: .unprocessableEntity)
            default: throw e
            }
        }
    }
}
