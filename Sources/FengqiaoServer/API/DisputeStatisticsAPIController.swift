import FengqiaoCore
import FengqiaoStore
import Vapor

/// Dispute statistics and the caller's work lists in the JSON API (issue 4 "Statistics", "Work
/// lists"). Both are scoped like every dispute read: mediators count and list their assigned
/// cases, grid workers their grid's, officers and governance-centre staff their community's; a
/// `territory` outside the caller's scope answers 404. No personal data is returned (counts, case
/// summaries and states only).
struct DisputeStatisticsAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("disputes", "statistics", access: .permission(.disputeRead), use: statistics)
        api.get("disputes", "worklist", access: .permission(.disputeRead), use: worklist)
    }

    static func service(_ req: Request) -> DisputeStatisticsService {
        DisputeStatisticsService(req.fengqiao, settings: req.application.disputeSettings)
    }

    /// `territory`, `from`, `to` from the query string.
    /// - Throws: `.invalidField("territory" | "from" | "to", …)` for malformed values.
    static func query(_ req: Request) throws -> DisputeStatisticsService.Query {
        var q = DisputeStatisticsService.Query()
        if let s = req.query[String.self, at: "territory"], !s.isEmpty {
            guard let id = UUID(uuidString: s) else { throw DomainError.invalidField(field: "territory", reason: "is not a valid id") }
            q.territory = id
        }
        for name in ["from", "to"] {
            guard let s = req.query[String.self, at: name], !s.isEmpty else { continue }
            guard let d = CalendarDate(iso: s) else { throw DomainError.invalidField(field: name, reason: "must be a date YYYY-MM-DD") }
            if name == "from" { q.from = d } else { q.to = d }
        }
        return q
    }

    /// The figures of one group, with the derived rates.
    struct FiguresDTO: Encodable {
        var received: Int
        var accepted: Int
        var settled: Int
        var closed: Int
        /// settled ÷ closed, 0…1.
        var successRate: Double?
        var averageDaysToSettle: Double?
        var overdue: Int
        var preventedEscalations: Int
        var keptInCommunity: Int
        var keptInCommunityShare: Double?
        var repeatIncidents: Int?
        init(_ f: DisputeFigures) {
            received = f.received
            accepted = f.accepted
            settled = f.settled
            closed = f.closed
            successRate = f.successRate
            averageDaysToSettle = f.averageDaysToSettle.map { ($0 * 10).rounded() / 10 }
            overdue = f.overdue
            preventedEscalations = f.preventedEscalations
            keptInCommunity = f.keptInCommunity
            keptInCommunityShare = f.keptInCommunityShare
            repeatIncidents = f.repeatIncidents
        }
    }

    struct RowDTO: Encodable {
        var key: String
        var label: String
        var figures: FiguresDTO
        init(_ r: DisputeStatisticsService.Row) {
            key = r.key
            label = r.label
            figures = FiguresDTO(r.figures)
        }
    }

    struct LadderDTO: Encodable {
        struct Level: Encodable { var level: DisputeLevel; var settled: Int; var share: Double? }
        var levels: [Level]
        var settled: Int
        init(_ l: SettlementLadder) {
            levels = DisputeLevel.allCases.map { Level(level: $0, settled: l[$0], share: l.share($0)) }
            settled = l.total
        }
    }

    struct StatisticsDTO: Encodable {
        var scope: String
        var territory: UUID?
        var from: CalendarDate?
        var to: CalendarDate?
        var generatedAt: Date
        var totals: FiguresDTO
        var settledByLevel: LadderDTO
        var byCategory: [RowDTO]
        var bySource: [RowDTO]
        var byRiskGrade: [RowDTO]
        var byLevel: [RowDTO]
        var byOutcome: [RowDTO]
        var byMonth: [RowDTO]
        var byGrid: [RowDTO]
        var byCommunity: [RowDTO]
        var summary: [String: String]
        init(_ r: DisputeStatisticsService.Report, territory: UUID?) {
            scope = r.scopeName
            self.territory = territory
            from = r.from
            to = r.to
            generatedAt = r.generatedAt
            totals = FiguresDTO(r.totals)
            settledByLevel = LadderDTO(r.ladder)
            byCategory = r.byCategory.map(RowDTO.init)
            bySource = r.bySource.map(RowDTO.init)
            byRiskGrade = r.byRiskGrade.map(RowDTO.init)
            byLevel = r.byLevel.map(RowDTO.init)
            byOutcome = r.byOutcome.map(RowDTO.init)
            byMonth = r.byMonth.map(RowDTO.init)
            byGrid = r.byGrid.map(RowDTO.init)
            byCommunity = r.byCommunity.map(RowDTO.init)
            summary = ["zh": r.summaryZH, "en": r.summaryEN]
        }
    }

    func statistics(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let q = try Self.query(req)
        let r = try await Self.service(req).report(q, principal: p)
        return try JSONOut.response(StatisticsDTO(r, territory: q.territory))
    }

    struct WorkItemDTO: Encodable {
        var id: UUID
        var version: Int
        var summary: String
        var state: DisputeState
        var level: DisputeLevel
        var riskGrade: RiskGrade
        var gridId: UUID
        var registeredAt: Date
        var levelDueAt: Date?
        var effectiveOn: CalendarDate?
        /// The date that put the case on the list (level deadline, judicial-confirmation deadline).
        var deadline: String?
        /// For sign-off: what the draft agreement still lacks (`party:<id>`, `mediatorSignature`, `committeeSeal`).
        var missing: [String]?
        init(_ w: DisputeStatisticsService.WorkItem) {
            id = w.item.id
            version = w.item.version
            summary = w.item.summary
            state = w.item.state
            level = w.item.level
            riskGrade = w.item.risk
            gridId = w.item.gridID
            registeredAt = w.item.registeredAt
            levelDueAt = w.item.levelDueAt
            effectiveOn = w.item.effectiveOn
            deadline = w.deadline
            missing = w.missing.isEmpty ? nil : w.missing
        }
    }

    struct ListDTO: Encodable {
        var items: [WorkItemDTO]
        var total: Int
        init(_ l: DisputeStatisticsService.WorkList) {
            items = l.items.map(WorkItemDTO.init)
            total = l.total
        }
    }

    struct WorklistDTO: Encodable {
        var dueToday: ListDTO
        var overdue: ListDTO
        var awaitingSignOff: ListDTO
        var jointSignOff: ListDTO
        var judicialConfirmation: ListDTO
        var toAccept: ListDTO
        var assigned: ListDTO
        init(_ w: DisputeStatisticsService.Worklist) {
            dueToday = ListDTO(w.dueToday)
            overdue = ListDTO(w.overdue)
            awaitingSignOff = ListDTO(w.awaitingSignOff)
            jointSignOff = ListDTO(w.jointSignOff)
            judicialConfirmation = ListDTO(w.judicialConfirmation)
            toAccept = ListDTO(w.toAccept)
            assigned = ListDTO(w.assigned)
        }
    }

    func worklist(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let limit = req.query[Int.self, at: "limit"] ?? 50
        guard (1...200).contains(limit) else { throw DomainError.invalidField(field: "limit", reason: "must lie in 1…200") }
        return try JSONOut.response(WorklistDTO(try await Self.service(req).worklist(principal: p, limit: limit)))
    }
}
