import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// Hazard statistics, the overdue escalation sweep and work list, subsidy totals and their export,
/// and the reviewers' claim list in the JSON API (issue 5; domain spec §4.2 overdue escalation,
/// §4.3 吹哨率, §4.4 subsidies, §8 KPIs).
///
/// A territory outside the caller's scope answers 404; department/property contacts get 403.
struct HazardStatsAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("events", "statistics", access: .permission(.eventRead), use: statistics)
        api.post("events", "escalations", access: .permission(.eventSupervise), use: sweep)
        api.get("events", "overdue", access: .permission(.eventSupervise), use: overdue)
        api.get("subsidy-claims", access: .authenticated, use: claims)
        api.get("subsidy-totals", access: .authenticated, use: totals)
        api.post("subsidy-totals", "export", access: .authenticated, use: export)
    }

    struct FiguresDTO: Encodable {
        var found: Int
        var voided: Int
        var verified: Int
        var whistled: Int
        var solved: Int
        var onTime: Int
        var overdue: Int
        var reopened: Int
        var evaluated: Int
        /// Mean satisfaction 1…5 (2 dp), `null` without evaluations.
        var satisfaction: Double?
        /// whistled ÷ found (4 dp).
        var whistleRate: Double?
        /// onTime ÷ solved (4 dp).
        var onTimeRate: Double?

        static func round(_ d: Double?, _ places: Double) -> Double? { d.map { ($0 * places).rounded() / places } }

        init(_ f: HazardStatsService.Figures) {
            found = f.found; voided = f.voided; verified = f.verified; whistled = f.whistled; solved = f.solved
            onTime = f.onTime; overdue = f.overdue; reopened = f.reopened; evaluated = f.evaluated
            satisfaction = Self.round(f.satisfaction, 100)
            whistleRate = Self.round(f.whistleRate, 10_000)
            onTimeRate = Self.round(f.onTimeRate, 10_000)
        }
    }

    struct LineDTO: Encodable {
        var gridId: UUID?
        var gridName: String?
        var category: HazardCategory?
        var categoryName: String?
        var figures: FiguresDTO
        init(_ l: HazardStatsService.Line) {
            gridId = l.gridID
            gridName = l.gridName
            category = l.category
            categoryName = l.category?.nameZH
            figures = FiguresDTO(l.figures)
        }
    }

    struct StatisticsDTO: Encodable {
        var territoryName: String?
        var from: String
        var to: String
        var summary: String
        var total: FiguresDTO
        var byCategory: [LineDTO]
        var byGrid: [LineDTO]
        var rows: [LineDTO]
    }

    static func territoryParam(_ req: Request) throws -> UUID? {
        guard let s = req.query[String.self, at: "territory"], !s.isEmpty else { return nil }
        guard let id = UUID(uuidString: s) else { throw DomainError.invalidField(field: "territory", reason: "is not a valid id") }
        return id
    }

    func statistics(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let s = try await HazardStatsService(req.fengqiao).statistics(
            territory: try Self.territoryParam(req), from: req.query[String.self, at: "from"], to: req.query[String.self, at: "to"], principal: p)
        return try JSONOut.response(StatisticsDTO(
            territoryName: s.territoryName, from: s.from.description, to: s.to.description, summary: s.summaryZH, total: FiguresDTO(s.total),
            byCategory: s.byCategory.map(LineDTO.init), byGrid: s.byGrid.map(LineDTO.init), rows: s.rows.map(LineDTO.init)))
    }

    func sweep(_ req: Request) async throws -> Response {
        let r = try await EscalationService(req.fengqiao).sweep(actor: req.actor)
        return try JSONOut.response(r)
    }

    func overdue(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        guard p.has(.eventRead) else { throw DomainError.forbidden(reason: "the work list needs event:read") }
        let svc = EscalationService(req.fengqiao)
        let items = try await svc.workList(principal: p)
        return try JSONOut.response(HazardAPIController.Page(items: items.map { HazardAPIController.EventDTO($0, service: svc.hazards) }, total: items.count))
    }

    struct ClaimRowDTO: Encodable {
        var claim: HazardAPIController.ClaimDTO
        var gridId: UUID
        var claimantName: String
        var eventCategory: HazardCategory?
        var eventDescription: String?
        var createdAt: Date
        var decidedAt: Date?
    }

    /// Reviewers and supervisors see the claims of their grids; a claimant their own.
    static func claimRows(_ req: Request, state: SubsidyState?) async throws -> [HazardStatsRepository.ClaimListRow] {
        let p = try req.requirePrincipal()
        let reviewer = p.has(.subsidyReview) || p.has(.eventSupervise)
        guard reviewer || p.has(.subsidyClaim) else { throw DomainError.forbidden(reason: "needs subsidy:review or subsidy:claim") }
        return try await HazardStatsRepository().claims(gridIDs: p.visible.gridIDs.map(Array.init), state: state, claimantID: reviewer ? nil : p.id, on: req.fengqiao.store.db)
    }

    func claims(_ req: Request) async throws -> Response {
        let state = try OrganizationAPIController.enumQuery(req, "state", as: SubsidyState.self)
        let rows = try await Self.claimRows(req, state: state)
        let items = rows.map {
            ClaimRowDTO(claim: .init($0.claim), gridId: $0.gridID, claimantName: $0.claimantName, eventCategory: $0.eventCategory,
                        eventDescription: $0.eventDescription, createdAt: $0.createdAt, decidedAt: $0.decidedAt)
        }
        return try JSONOut.response(HazardAPIController.Page(items: items, total: items.count))
    }

    struct TotalsLineDTO: Encodable { var id: UUID; var name: String; var slotsFen: [Int]; var slotsYuan: [String]; var totalFen: Int; var totalYuan: String; var claims: Int }
    struct TotalsDTO: Encodable {
        var year: Int
        var month: Int?
        var by: HazardStatsService.TotalsBy
        var slots: [String]
        var rows: [TotalsLineDTO]
        var slotTotalsFen: [Int]
        var totalFen: Int
        var totalYuan: String
        var claims: Int
        var ownOnly: Bool
    }

    static func totalsParams(_ req: Request) throws -> (Int?, Int?, HazardStatsService.TotalsBy) {
        let year = try TerritoryWebController.intField(req.query[String.self, at: "year"], "year")
        let month = try TerritoryWebController.intField(req.query[String.self, at: "month"], "month")
        let by = try OrganizationAPIController.enumQuery(req, "by", as: HazardStatsService.TotalsBy.self) ?? .person
        return (year, month, by)
    }

    func totals(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (year, month, by) = try Self.totalsParams(req)
        let t = try await HazardStatsService(req.fengqiao).totals(year: year, month: month, by: by, principal: p)
        return try JSONOut.response(TotalsDTO(
            year: t.year, month: t.month, by: t.by, slots: t.slotLabels,
            rows: t.rows.map { TotalsLineDTO(id: $0.id, name: $0.name, slotsFen: $0.slots, slotsYuan: $0.slots.map(SubsidyClaim.yuan), totalFen: $0.total, totalYuan: SubsidyClaim.yuan($0.total), claims: $0.claims) },
            slotTotalsFen: t.slotTotals, totalFen: t.total, totalYuan: SubsidyClaim.yuan(t.total), claims: t.claims, ownOnly: t.ownOnly))
    }

    struct ExportIn: Decodable {
        var year: Int?
        var month: Int?
        var by: HazardStatsService.TotalsBy?
        var format: ExportService.Format?
        var purpose: String?
    }

    func export(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(ExportIn.self, req)
        let f = try await HazardStatsService(req.fengqiao).export(
            year: i.year, month: i.month, by: i.by ?? .person, format: i.format, purpose: i.purpose, actor: req.actor, displayName: p.account.displayName,
            principal: p, labels: Page.t(req))
        return Self.file(f)
    }

    static func file(_ f: HazardStatsService.ExportFile) -> Response {
        let res = Response(status: .ok, body: .init(data: f.data))
        res.headers.replaceOrAdd(name: .contentType, value: f.contentType)
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(f.filename)\"")
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        res.headers.replaceOrAdd(name: "X-Export-Rows", value: String(f.rows))
        res.headers.replaceOrAdd(name: "X-Export-Audit-Seq", value: String(f.auditSeq))
        return res
    }
}
