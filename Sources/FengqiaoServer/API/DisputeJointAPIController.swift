import FengqiaoCore
import FengqiaoStore
import Vapor

/// Joint handling with the governance centre (双推送、双盯办、双化解), work-list reminders,
/// party reveals, the agreement print and incident dispatch records in the JSON API (issue 4).
/// Registered by `DisputeAPIController`. Out-of-scope cases answer 404; the side of joint handling
/// follows the caller's role (community police officer / governance-centre staff, others 403).
struct DisputeJointAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("disputes", "reminders", access: .permission(.disputeRead), use: reminders)
        api.get("disputes", ":id", "joint", access: .permission(.disputeRead), use: joint)
        api.post("disputes", ":id", "joint", "push", access: .permission(.disputeWrite), use: push)
        api.post("disputes", ":id", "joint", "supervision", access: .permission(.disputeWrite), use: supervise)
        api.post("disputes", ":id", "joint", "sign-off", access: .permission(.disputeWrite), use: signOff)
        api.post("disputes", ":id", "parties", ":partyId", "reveal", access: .permission(.piiReveal), use: reveal)
        api.post("disputes", ":id", "agreement", "print", access: .permission(.disputeWrite), use: print)
        api.get("incidents", "response-times", access: .permission(.incidentRead), use: responseTimes)
        api.get("incidents", ":id", "timeline", access: .permission(.incidentRead), use: incidentTimeline)
    }

    static func service(_ req: Request) -> DisputeService { DisputeAPIController.service(req) }

    struct SideDTO: Encodable {
        var ownerId: UUID?
        var ownerName: String?
        var dueAt: Date?
        var signedOffAt: Date?
        var signedOffBy: String?
        var reminder: JointRules.Reminder?
        init(_ s: JointSideState, now: Date, policy: JointPolicy) {
            ownerId = s.ownerID
            ownerName = s.ownerName
            dueAt = s.dueAt
            signedOffAt = s.signedOffAt
            signedOffBy = s.signedOffBy
            reminder = JointRules.reminder(s, now: now, policy: policy)
        }
    }

    struct JointDTO: Encodable {
        var joint: Bool
        var pushedBy: JointSide?
        var pushedAt: Date?
        var police: SideDTO?
        var governanceCentre: SideDTO?
        var missingSignOffs: [JointSide]
        init(_ j: JointCase?, now: Date, policy: JointPolicy) {
            joint = j != nil
            pushedBy = j?.pushedBy
            pushedAt = j?.pushedAt
            police = j.map { SideDTO($0.police, now: now, policy: policy) }
            governanceCentre = j.map { SideDTO($0.governanceCentre, now: now, policy: policy) }
            missingSignOffs = j?.missingSignOffs ?? []
        }
    }

    func out(_ req: Request, _ j: JointCase?) throws -> Response {
        let s = req.application.disputeSettings
        return try JSONOut.response(JointDTO(j, now: s.clock(), policy: s.handling.joint))
    }

    func joint(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try out(req, try await Self.service(req).jointCase(try req.uuid("id", kind: "dispute"), access: DisputeService.access(p)))
    }

    func push(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let j = try await Self.service(req).push(try req.uuid("id", kind: "dispute"), try JSONIn.decode(DisputeService.PushInput.self, req), actor: req.actor, access: DisputeService.access(p))
        let res = try out(req, j)
        res.status = .created
        return res
    }

    func supervise(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try out(req, try await Self.service(req).supervise(try req.uuid("id", kind: "dispute"), try JSONIn.decode(DisputeService.SuperviseInput.self, req), actor: req.actor, access: DisputeService.access(p)))
    }

    struct SignOffIn: Decodable { var note: String? }
    func signOff(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(SignOffIn.self, req)
        return try out(req, try await Self.service(req).signOff(try req.uuid("id", kind: "dispute"), note: i.note, actor: req.actor, access: DisputeService.access(p)))
    }

    /// `DisputeService.reminders(access:role:)` — the work-list reminders of the caller.
    func reminders(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await Self.service(req).reminders(access: DisputeService.access(p), role: p.role))
    }

    struct RevealIn: Decodable { var field: PopulationService.RevealField?; var purpose: String? }
    struct RevealOut: Encodable { var disputeId: UUID; var partyId: UUID; var field: PopulationService.RevealField; var value: String }
    func reveal(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        let party = try req.uuid("partyId", kind: "party")
        let i = try JSONIn.decode(RevealIn.self, req)
        let value = try await Self.service(req).revealParty(id, partyID: party, field: i.field, purpose: i.purpose, actor: req.actor, access: DisputeService.access(p))
        let res = try JSONOut.response(RevealOut(disputeId: id, partyId: party, field: i.field!, value: value))
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }

    struct PrintIn: Decodable { var purpose: String? }
    /// The print page (text/html, `no-store`) of the written agreement; the purpose in the body.
    func print(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(PrintIn.self, req)
        return try await AgreementPrint.render(req, id: try req.uuid("id", kind: "dispute"), purpose: i.purpose, access: DisputeService.access(p))
    }

    struct GridTimesDTO: Encodable {
        var gridId: UUID
        var gridName: String
        var received: Int
        var arrived: Int
        var medianMinutes: Double?
        var averageMinutes: Double?
        var maxMinutes: Double?
    }
    struct ResponseTimesOut: Encodable { var from: Date; var to: Date; var items: [GridTimesDTO] }

    /// `from` / `to`: calendar days `YYYY-MM-DD` in China Standard Time, both inclusive; default
    /// the 30 days up to today.
    func responseTimes(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let tz = TimeZone(identifier: "Asia/Shanghai")!
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = tz
        func day(_ name: String) throws -> Date? {
            guard let raw = req.query[String.self, at: name], !raw.isEmpty else { return nil }
            guard let d = CalendarDate(iso: raw), let date = cal.date(from: d.dateComponents) else {
                throw DomainError.invalidField(field: name, reason: "is not a calendar date YYYY-MM-DD")
            }
            return date
        }
        let now = req.application.disputeSettings.clock()
        let endDay = try day("to") ?? cal.startOfDay(for: now)
        let to = cal.date(byAdding: .day, value: 1, to: endDay)!
        let from = try day("from") ?? cal.date(byAdding: .day, value: -30, to: to)!
        let rows = try await Self.service(req).responseTimes(visible: p.visible, from: from, to: to)
        return try JSONOut.response(ResponseTimesOut(from: from, to: to, items: rows.map { g, f in
            GridTimesDTO(gridId: g.id, gridName: g.name, received: f.received, arrived: f.arrived, medianMinutes: f.medianMinutes, averageMinutes: f.averageMinutes, maxMinutes: f.maxMinutes)
        }))
    }

    struct HandlingDTO: Encodable {
        var gridWorkerId: UUID?
        var gridWorkerName: String?
        var notifiedAt: Date?
        var officerId: UUID?
        var officerName: String?
        var disposedAt: Date?
    }
    struct IncidentTimelineOut: Encodable { var handling: HandlingDTO?; var items: [IncidentTimelineEntry] }
    func incidentTimeline(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (h, items) = try await Self.service(req).incidentTimeline(try req.uuid("id", kind: "incident"), visible: p.visible)
        return try JSONOut.response(IncidentTimelineOut(
            handling: h.map { HandlingDTO(gridWorkerId: $0.gridWorkerID, gridWorkerName: $0.gridWorkerName, notifiedAt: $0.notifiedAt, officerId: $0.officerID, officerName: $0.officerName, disposedAt: $0.disposedAt) },
            items: items))
    }
}
