import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// 逾期督办 (the supervisor's work list), 隐患统计 (figures per grid and category, server-drawn
/// SVG bar charts and the community map of open hazards) and 一事一案一补 (subsidy totals per person
/// and per grid with an audited, watermarked export; the reviewers' claim list with approve and
/// reject). Issue 5; domain spec §4.2 overdue escalation, §4.4, §8.
struct HazardStatsWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("hazards", "overdue", access: .permission(.eventSupervise), use: overdue)
        routes.post("hazards", "escalations", access: .permission(.eventSupervise), use: sweep)
        routes.get("hazards", "statistics", access: .permission(.eventRead), use: statistics)
        routes.get("subsidies", access: .authenticated, use: subsidies)
        routes.post("subsidies", "export", access: .authenticated, use: export)
        routes.get("subsidies", "claims", access: .authenticated, use: claims)
        routes.post("subsidies", "claims", ":id", "review", access: .permission(.subsidyReview), use: review)
    }

    typealias Option = HazardWebController.Option

    // MARK: overdue work list

    struct OverdueData: Encodable {
        var rows: [HazardWebController.EventRow]
        var swept: String
    }

    func overdue(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        guard p.has(.eventRead) else { throw Abort(.forbidden, reason: "The work list needs event:read.") }
        let t = Page.t(req)
        let svc = EscalationService(req.fengqiao)
        let items = try await svc.workList(principal: p)
        let names = try await HazardWebController.gridNames(req, items.map(\.gridID))
        let swept = req.query[Int.self, at: "swept"].map(String.init) ?? ""
        return try await Page.render(req, "hazard-overdue", OverdueData(rows: items.map { HazardWebController.row($0, svc: svc.hazards, gridNames: names, escalated: true) }, swept: swept),
                                     title: t["hz.overdueTitle"]!)
    }

    func sweep(_ req: Request) async throws -> Response {
        let r = try await EscalationService(req.fengqiao).sweep(actor: req.actor)
        let p = try req.requirePrincipal()
        return req.redirect(to: p.has(.eventRead) ? "/hazards/overdue?swept=\(r.escalated)" : "/", redirectType: .normal)
    }

    // MARK: statistics

    struct StatRow: Encodable {
        var label: String
        var sub: String
        var found: Int
        var verified: Int
        var whistled: Int
        var solved: Int
        var onTime: Int
        var overdue: Int
        var reopened: Int
        var satisfaction: String
        var whistleRate: String
        var onTimeRate: String
    }

    struct StatsData: Encodable {
        var territories: [Option]
        var from: String
        var to: String
        var summary: String
        var total: StatRow
        var byCategory: [StatRow]
        var byGrid: [StatRow]
        var rows: [StatRow]
        var chartCategory: String
        var chartGrid: String
        var map: String?
        var mapCommunity: String
        var formError: FormError?
    }

    static func pct(_ d: Double?) -> String { d.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }

    static func statRow(_ label: String, _ sub: String, _ f: HazardStatsService.Figures) -> StatRow {
        StatRow(label: label, sub: sub, found: f.found, verified: f.verified, whistled: f.whistled, solved: f.solved, onTime: f.onTime, overdue: f.overdue,
                reopened: f.reopened, satisfaction: f.satisfaction.map { String(format: "%.2f", $0) } ?? "—", whistleRate: pct(f.whistleRate), onTimeRate: pct(f.onTimeRate))
    }

    /// Territories the user may choose: their communities and grids.
    func territoryOptions(_ req: Request, _ p: Principal, selected: String?) async throws -> ([Option], [Community]) {
        let app = req.fengqiao
        let db = app.store.db
        var out: [Option] = []
        var communities: [Community] = []
        for s in try await app.territories.stations(visible: p.visible, on: db) {
            for c in try await app.territories.communities(stationID: s.id, visible: p.visible, on: db) {
                if p.visible.owns(territoryID: c.id) || p.visible == .everything {
                    communities.append(c)
                    let id = c.id.uuidString.lowercased()
                    out.append(Option(value: id, label: c.name, selected: id == selected))
                }
                for g in try await app.territories.grids(communityID: c.id, visible: p.visible, on: db) where p.visible.canSee(grid: g.id) {
                    let id = g.id.uuidString.lowercased()
                    out.append(Option(value: id, label: "\(c.name) · \(g.name)", selected: id == selected))
                }
            }
        }
        return (out, communities)
    }

    func statistics(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = HazardStatsService(req.fengqiao)
        let terr = req.query[String.self, at: "territory"].flatMap { $0.isEmpty ? nil : $0 }
        let (options, communities) = try await territoryOptions(req, p, selected: terr)
        let from = req.query[String.self, at: "from"], to = req.query[String.self, at: "to"]
        let s: HazardStatsService.Statistics
        var formError: FormError?
        do {
            var tid: UUID?
            if let terr {
                guard let u = UUID(uuidString: terr) else { throw DomainError.invalidField(field: "territory", reason: "is not a valid id") }
                tid = u
            }
            s = try await svc.statistics(territory: tid, from: from, to: to, principal: p)
        } catch let e as DomainError {
            if case .notFound = e { throw e }
            if case .forbidden = e { throw Abort(.forbidden, reason: "Statistics need event:manage or event:supervise.") }
            formError = FormError.from(e, form: "stats", values: [:])
            s = try await svc.statistics(territory: nil, from: nil, to: nil, principal: p)
        }
        let catLabel = { (c: HazardCategory?) in c.map { HazardWebController.categoryLabel($0, t) } ?? "" }
        let series = { (lines: [HazardStatsService.Line]) -> [HazardCharts.Series] in
            [HazardCharts.Series(label: t["stats.found"]!, colour: "#24323f", values: lines.map(\.figures.found)),
             HazardCharts.Series(label: t["stats.solved"]!, colour: "#1e7b45", values: lines.map(\.figures.solved)),
             HazardCharts.Series(label: t["stats.whistled"]!, colour: "#f0b429", values: lines.map(\.figures.whistled)),
             HazardCharts.Series(label: t["stats.overdue"]!, colour: "#b03a2e", values: lines.map(\.figures.overdue))]
        }
        // The map: the chosen community, the community of the chosen grid, or the first one.
        var mapCommunity: Community?
        if let terr, let id = UUID(uuidString: terr) {
            mapCommunity = communities.first { $0.id == id }
            if mapCommunity == nil, let g = try await ifFound({ try await req.fengqiao.territories.grid(id, visible: p.visible, on: req.fengqiao.store.db) }) {
                mapCommunity = try await ifFound { try await req.fengqiao.territories.community(g.communityID, visible: p.visible, on: req.fengqiao.store.db) }
            }
        }
        var mapSVG: String?
        let now = Date()
        if let m = try await ifFound({ try await svc.map(community: (mapCommunity ?? (p.visible.gridIDs == nil || p.visible.level >= .community ? communities.first : nil))?.id, principal: p) }) {
            mapSVG = HazardCharts.map(m, now: now, categoryLabel: { HazardWebController.categoryLabel($0, t) },
                                      ageLabels: HazardStatsService.AgeClass.allCases.map { t["stats.age.\($0.rawValue)"]! }, noPositionLabel: t["stats.noPosition"]!)
        }
        let data = StatsData(
            territories: options, from: s.from.description, to: s.to.description, summary: Page.lang(req) == .zh ? s.summaryZH : s.summaryEN,
            total: Self.statRow(t["stats.total"]!, "", s.total), byCategory: s.byCategory.map { Self.statRow(catLabel($0.category), "", $0.figures) },
            byGrid: s.byGrid.map { Self.statRow($0.gridName ?? "", "", $0.figures) }, rows: s.rows.map { Self.statRow($0.gridName ?? "", catLabel($0.category), $0.figures) },
            chartCategory: HazardCharts.bars(title: t["stats.byCategory"]!, labels: s.byCategory.map { catLabel($0.category) }, series: series(s.byCategory)),
            chartGrid: HazardCharts.bars(title: t["stats.byGrid"]!, labels: s.byGrid.map { $0.gridName ?? "" }, series: series(s.byGrid)),
            map: mapSVG, mapCommunity: mapCommunity?.name ?? communities.first?.name ?? "", formError: formError)
        return try await Page.render(req, "hazard-stats", data, title: t["stats.title"]!, status: formError == nil ? .ok : .unprocessableEntity)
    }

    // MARK: subsidies

    struct TotalsRow: Encodable { var name: String; var cells: [String]; var total: String; var claims: Int }
    struct SubsidyData: Encodable {
        var years: [Option]
        var months: [Option]
        var byOptions: [Option]
        var header: [String]
        var rows: [TotalsRow]
        var sum: TotalsRow
        var ownOnly: Bool
        var canExport: Bool
        var canReview: Bool
        var year: Int
        var month: String
        var by: String
        var formError: FormError?
    }

    func renderSubsidies(_ req: Request, year: Int?, month: Int?, by: HazardStatsService.TotalsBy, formError: FormError? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let tot = try await HazardStatsService(req.fengqiao).totals(year: year, month: month, by: by, principal: p)
        let thisYear = CalendarDate(Date(), timeZone: HazardService.timeZone).year
        let (header, cells) = HazardStatsService.table(tot, labels: t)
        let body = cells.dropLast().enumerated().map { i, c in TotalsRow(name: c[0], cells: Array(c[1..<(c.count - 1)]), total: c[c.count - 2], claims: tot.rows[i].claims) }
        let last = cells.last!
        let data = SubsidyData(
            years: ((thisYear - 4)...(thisYear + 1)).reversed().map { Option(value: String($0), label: String($0), selected: $0 == tot.year) },
            months: [Option(value: "", label: t["sub.wholeYear"]!, selected: tot.month == nil)] + (1...12).map { Option(value: String($0), label: "\($0)月", selected: $0 == tot.month) },
            byOptions: HazardStatsService.TotalsBy.allCases.map { Option(value: $0.rawValue, label: t["sub.by.\($0.rawValue)"]!, selected: $0 == by) },
            header: Array(header.dropFirst().dropLast()), rows: body, sum: TotalsRow(name: last[0], cells: Array(last[1..<(last.count - 1)]), total: last[last.count - 2], claims: tot.claims),
            ownOnly: tot.ownOnly, canExport: true, canReview: p.has(.subsidyReview), year: tot.year, month: tot.month.map(String.init) ?? "", by: by.rawValue, formError: formError)
        return try await Page.render(req, "subsidies", data, title: t["sub.title"]!, status: status)
    }

    func subsidies(_ req: Request) async throws -> Response {
        do {
            let (year, month, by) = try HazardStatsAPIController.totalsParams(req)
            return try await renderSubsidies(req, year: year, month: month, by: by)
        } catch let e as DomainError {
            if case .forbidden = e { throw Abort(.forbidden, reason: "Subsidy totals need subsidy:review, event:supervise or subsidy:claim.") }
            guard case .invalidField = e else { throw e }
            return try await renderSubsidies(req, year: nil, month: nil, by: .person, formError: FormError.from(e, form: "totals", values: [:]), status: .unprocessableEntity)
        }
    }

    func export(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = TerritoryWebController.values(req)
        let by = HazardStatsService.TotalsBy(rawValue: v["by"] ?? "") ?? .person
        var year: Int?
        var month: Int?
        do {
            // A bad year or month is an inline error, not a silent export of the current year.
            year = try TerritoryWebController.intField(v["year"], "year")
            month = try TerritoryWebController.intField(v["month"], "month")
            let f = try await HazardStatsService(req.fengqiao).export(
                year: year, month: month, by: by, format: v["format"].flatMap(ExportService.Format.init(rawValue:)), purpose: v["purpose"],
                actor: req.actor, displayName: p.account.displayName, principal: p, labels: Page.t(req))
            return HazardStatsAPIController.file(f)
        } catch let e as DomainError {
            if case .forbidden = e { throw Abort(.forbidden, reason: "Subsidy totals need subsidy:review, event:supervise or subsidy:claim.") }
            guard let fe = FormError.from(e, form: "export", values: v) else { throw e }
            return try await renderSubsidies(req, year: year, month: month, by: by, formError: fe, status: .unprocessableEntity)
        }
    }

    struct ClaimRow: Encodable {
        var id: String
        var claimant: String
        var eventID: String
        var event: String
        var state: String
        var stateCode: String
        var amount: String
        var note: String
        var created: String
        var canReview: Bool
    }
    struct ClaimsData: Encodable { var rows: [ClaimRow]; var pendingOnly: Bool; var formError: FormError?; var reviewer: Bool }

    func renderClaims(_ req: Request, pendingOnly: Bool, formError: FormError? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let rows = try await HazardStatsAPIController.claimRows(req, state: pendingOnly ? .claimed : nil)
        let data = ClaimsData(rows: rows.map { r in
            ClaimRow(id: r.claim.id.uuidString.lowercased(), claimant: r.claimantName, eventID: r.claim.caseID.uuidString.lowercased(),
                     event: [r.eventCategory.map { HazardWebController.categoryLabel($0, t) } ?? "", r.eventDescription ?? ""].filter { !$0.isEmpty }.joined(separator: " · "),
                     state: t["sub.state.\(r.claim.state.rawValue)"] ?? r.claim.state.rawValue, stateCode: r.claim.state.rawValue,
                     amount: r.claim.amountFen.map(SubsidyClaim.yuan) ?? "", note: r.claim.reviewNote ?? "", created: ImportWebController.time(r.createdAt),
                     canReview: p.has(.subsidyReview) && r.claim.state == .claimed && r.claim.claimantID != p.id)
        }, pendingOnly: pendingOnly, formError: formError, reviewer: p.has(.subsidyReview))
        return try await Page.render(req, "subsidy-claims", data, title: t["sub.claimList"]!, status: status)
    }

    func claims(_ req: Request) async throws -> Response {
        do {
            return try await renderClaims(req, pendingOnly: req.query[String.self, at: "pending"] == "1")
        } catch DomainError.forbidden {
            throw Abort(.forbidden, reason: "Claims need subsidy:review or subsidy:claim.")
        }
    }

    func review(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "subsidy claim")
        let v = TerritoryWebController.values(req)
        do {
            guard let d = v["decision"], d == "approve" || d == "reject" else { throw DomainError.invalidField(field: "decision", reason: "must be approve or reject") }
            let note = v["note"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            _ = try await HazardService(req.fengqiao).review(id, approve: d == "approve", note: note, actor: req.actor, principal: p)
        } catch let e as DomainError {
            if case .notFound = e { throw e }
            guard let fe = FormError.from(e, form: "review-\(id.uuidString.lowercased())", values: v) else { throw e }
            var status = HTTPResponseStatus.unprocessableEntity
            if case .forbidden = e { status = .forbidden }
            return try await renderClaims(req, pendingOnly: true, formError: fe, status: status)
        }
        return req.redirect(to: "/subsidies/claims?pending=1", redirectType: .normal)
    }
}
