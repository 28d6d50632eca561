import FengqiaoCore
import FengqiaoStore
import Vapor

/// 矛盾纠纷统计 (issue 4 "Statistics"): the office's one-paragraph summary, key figures, the
/// settlement ladder (琐事不出楼栋、小事不出网格、大事不出社区, 矛盾不上交), and the breakdowns by
/// category, source, risk grade, level, outcome, month, grid and community — charts drawn by the
/// server as SVG with the same numbers in tables. Scoped like every dispute read; a territory
/// outside the caller's scope is 404. Also builds the 我的待办 section of the dispute list.
struct DisputeStatisticsWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("disputes", "statistics", access: .permission(.disputeRead), use: statistics)
    }

    struct Option: Encodable { var value: String; var label: String; var selected: Bool }
    struct Tile: Encodable { var label: String; var value: String }
    struct TableRow: Encodable {
        var label: String
        var received: Int
        var accepted: Int
        var settled: Int
        var closed: Int
        var rate: String
        var days: String
        var overdue: Int
        var prevented: Int
        var repeats: String
    }
    struct LadderRow: Encodable { var label: String; var settled: Int; var share: String }
    /// A breakdown: its chart and its table body, written here as escaped HTML (`tbody`), because
    /// Leaf's per-cell work was most of the page's CPU with a few hundred cells.
    struct Section: Encodable {
        var title: String
        var chart: String?
        var empty: Bool
        var tbody: String
        init(title: String, chart: String?, rows: [TableRow]) {
            self.title = title
            self.chart = chart
            empty = rows.isEmpty
            var h = ""
            h.reserveCapacity(rows.count * 160)
            for r in rows {
                h += "<tr><td>" + GridMap.escape(r.label) + "</td>"
                for cell in [String(r.received), String(r.accepted), String(r.settled), String(r.closed), GridMap.escape(r.rate),
                             GridMap.escape(r.days), String(r.overdue), String(r.prevented), GridMap.escape(r.repeats)] {
                    h += "<td>" + cell + "</td>"
                }
                h += "</tr>"
            }
            tbody = h
        }
    }

    struct StatsData: Encodable {
        var territories: [Option]
        var from: String
        var to: String
        var summary: String
        var tiles: [Tile]
        var ladderChart: String
        var ladder: [LadderRow]
        var sections: [Section]
    }

    static func row(_ label: String, _ f: DisputeFigures) -> TableRow {
        TableRow(
            label: label, received: f.received, accepted: f.accepted, settled: f.settled, closed: f.closed, rate: DisputeFigures.percent(f.successRate),
            days: f.averageDaysToSettle.map(\.oneDecimal) ?? "—", overdue: f.overdue, prevented: f.preventedEscalations,
            repeats: f.repeatIncidents.map(String.init) ?? "—")
    }

    static let ladderColours: [DisputeLevel: String] = [.building: "#1f8a70", .grid: "#2f6db5", .community: "#c07a12", .station: "#c0392b"]

    func statistics(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let en = Page.lang(req) == .en
        let q = try DisputeStatisticsAPIController.query(req)
        let r = try await DisputeStatisticsAPIController.service(req).report(q, principal: p)
        // Territory choices: the caller's communities, and the grids when there is one community.
        let app = req.fengqiao
        let communities = try await app.territories.communityNames(visible: p.visible, on: app.store.db)
        var options = [Option(value: "", label: t["dstat.wholeScope"]!, selected: q.territory == nil)]
        let sel = q.territory?.uuidString.lowercased()
        if p.visible.level >= .community || communities.count > 1 {
            options += communities.map { Option(value: $0.id.uuidString.lowercased(), label: $0.name, selected: sel == $0.id.uuidString.lowercased()) }
        }
        if communities.count == 1, let c = communities.first {
            let grids = try await app.territories.gridNames(communityID: c.id, visible: p.visible, on: app.store.db)
            options += grids.map { Option(value: $0.id.uuidString.lowercased(), label: "· \($0.name)", selected: sel == $0.id.uuidString.lowercased()) }
        }
        let f = r.totals
        let tiles = [
            Tile(label: t["dstat.received"]!, value: String(f.received)),
            Tile(label: t["dstat.accepted"]!, value: String(f.accepted)),
            Tile(label: t["dstat.settled"]!, value: String(f.settled)),
            Tile(label: t["dstat.rate"]!, value: DisputeFigures.percent(f.successRate)),
            Tile(label: t["dstat.days"]!, value: f.averageDaysToSettle.map(\.oneDecimal) ?? "—"),
            Tile(label: t["dstat.kept"]!, value: DisputeFigures.percent(f.keptInCommunityShare)),
            Tile(label: t["dstat.overdue"]!, value: String(f.overdue)),
            Tile(label: t["dstat.prevented"]!, value: String(f.preventedEscalations)),
            Tile(label: t["dstat.repeats"]!, value: String(f.repeatIncidents ?? 0)),
        ]
        func levelName(_ l: DisputeLevel) -> String { t["dstat.ladder.\(l.rawValue)"] ?? l.rawValue }
        let ladderChart = SVGChart.stacked(
            title: t["dstat.ladderTitle"]!,
            [SVGChart.StackedRow(label: t["dstat.settled"]!, segments: DisputeLevel.allCases.map {
                SVGChart.Segment(label: levelName($0), value: Double(r.ladder[$0]), color: Self.ladderColours[$0]!)
            })], normalised: true)
        let ladder = DisputeLevel.allCases.map { LadderRow(label: levelName($0), settled: r.ladder[$0], share: DisputeFigures.percent(r.ladder.share($0))) }
        func grouped(_ title: String, _ rows: [DisputeStatisticsService.Row]) -> String {
            HazardCharts.bars(title: title, labels: rows.map(\.label), series: [
                .init(label: t["dstat.received"]!, colour: SVGChart.palette[0], values: rows.map(\.figures.received)),
                .init(label: t["dstat.settled"]!, colour: SVGChart.palette[1], values: rows.map(\.figures.settled)),
            ], width: 480)
        }
        func label(_ row: DisputeStatisticsService.Row, _ key: String) -> String { en ? (t["\(key).\(row.key)"] ?? row.label) : row.label }
        let outcomeRows = r.byOutcome.map { o in Self.row(en ? (DisputeOutcome(rawValue: o.key)?.nameEN ?? o.label) : o.label, o.figures) }
        let sections = [
            Section(title: t["dstat.byCategory"]!, chart: grouped(t["dstat.byCategory"]!, r.byCategory), rows: r.byCategory.map { Self.row($0.label, $0.figures) }),
            Section(title: t["dstat.bySource"]!, chart: grouped(t["dstat.bySource"]!, r.bySource), rows: r.bySource.map { Self.row($0.label, $0.figures) }),
            Section(title: t["dstat.byRisk"]!, chart: nil, rows: r.byRiskGrade.map { Self.row(label($0, "dispute.risk"), $0.figures) }),
            Section(title: t["dstat.byLevel"]!, chart: nil, rows: r.byLevel.map { Self.row(label($0, "dispute.level"), $0.figures) }),
            Section(title: t["dstat.byOutcome"]!, chart: nil, rows: outcomeRows),
            Section(title: t["dstat.byMonth"]!, chart: r.byMonth.isEmpty ? nil : SVGChart.columns(
                title: t["dstat.byMonth"]!, r.byMonth.map { SVGChart.Bar($0.label, Double($0.figures.received)) }), rows: r.byMonth.map { Self.row($0.label, $0.figures) }),
            Section(title: t["dstat.byCommunity"]!, chart: nil, rows: r.byCommunity.map { Self.row($0.label, $0.figures) }),
            Section(title: t["dstat.byGrid"]!, chart: nil, rows: r.byGrid.map { Self.row($0.label, $0.figures) }),
        ]
        let data = StatsData(
            territories: options, from: q.from?.description ?? "", to: q.to?.description ?? "", summary: en ? r.summaryEN : r.summaryZH,
            tiles: tiles, ladderChart: ladderChart, ladder: ladder, sections: sections)
        return try await Page.render(req, "dispute-statistics", data, title: t["dstat.title"]!)
    }

    // MARK: 我的待办 (for the dispute list page)

    struct WorkRow: Encodable { var id: String; var summary: String; var state: String; var level: String; var risk: String; var riskCode: String; var note: String }
    struct WorkGroup: Encodable { var title: String; var total: Int; var rows: [WorkRow] }
    struct WorklistData: Encodable { var groups: [WorkGroup]; var empty: Bool }

    /// The caller's work lists as page data: due today, overdue, awaiting sign-off, joint
    /// sign-off, judicial confirmation — each with its count and first rows.
    static func worklist(_ req: Request, principal p: Principal, limit: Int = 20) async throws -> WorklistData {
        let t = Page.t(req)
        let w = try await DisputeStatisticsAPIController.service(req).worklist(principal: p, limit: limit)
        func rows(_ l: DisputeStatisticsService.WorkList, note: (DisputeStatisticsService.WorkItem) -> String) -> [WorkRow] {
            l.items.map { i in
                WorkRow(
                    id: i.item.id.uuidString.lowercased(), summary: i.item.summary, state: DisputeWebController.stateLabel(i.item.state, t),
                    level: DisputeWebController.levelLabel(i.item.level, t), risk: DisputeWebController.riskLabel(i.item.risk, t), riskCode: i.item.risk.rawValue,
                    note: note(i))
            }
        }
        let due: (DisputeStatisticsService.WorkItem) -> String = { "\(t["dispute.dueAt"]!) \(ImportWebController.time($0.item.levelDueAt))" }
        let groups = [
            WorkGroup(title: t["dstat.work.toAccept"]!, total: w.toAccept.total, rows: rows(w.toAccept) { "\(t["dispute.registered"]!) \(ImportWebController.time($0.item.registeredAt))" }),
            WorkGroup(title: t["dstat.work.assigned"]!, total: w.assigned.total, rows: rows(w.assigned, note: due)),
            WorkGroup(title: t["dstat.work.dueToday"]!, total: w.dueToday.total, rows: rows(w.dueToday, note: due)),
            WorkGroup(title: t["dstat.work.overdue"]!, total: w.overdue.total, rows: rows(w.overdue) { i in
                i.item.levelDueAt.map { "\(t["dispute.dueAt"]!) \(ImportWebController.time($0))" } ?? "\(t["dispute.registered"]!) \(ImportWebController.time(i.item.registeredAt))"
            }),
            WorkGroup(title: t["dstat.work.signOff"]!, total: w.awaitingSignOff.total, rows: rows(w.awaitingSignOff) { i in
                t["dstat.work.missing"]! + i.missing.map { $0.hasPrefix("party:") ? t["dstat.work.partyMark"]! : (t["dstat.work.\($0)"] ?? $0) }.joined(separator: "、")
            }),
            WorkGroup(title: t["dstat.work.joint"]!, total: w.jointSignOff.total, rows: rows(w.jointSignOff) { $0.deadline ?? "" }),
            WorkGroup(title: t["dstat.work.confirmation"]!, total: w.judicialConfirmation.total, rows: rows(w.judicialConfirmation) { "\(t["dispute.confirmation"]!) \($0.deadline ?? "")" }),
        ]
        return WorklistData(groups: groups, empty: groups.allSatisfy { $0.total == 0 })
    }
}
