import FengqiaoCore
import FengqiaoStore
import Foundation

/// Hazard statistics, the community's hazard map and the per-case subsidy totals (issue 5 "map and
/// statistics", "monthly and yearly totals per person and per grid, exportable"; domain spec §8
/// KPIs for grid events: count by category, on-time rate, reopen rate, satisfaction, 吹哨率 §4.3).
///
/// Figures come from aggregate SQL (`HazardStatsRepository`); periods are calendar days in the
/// office's time zone (Asia/Shanghai), `from` and `to` inclusive. Who may read: staff who manage
/// or supervise events (`event:manage` or `event:supervise`), over the grids of their scope; a
/// territory outside the scope answers 404. Department/property contacts never see statistics.
public struct HazardStatsService: Sendable {
    let app: Fengqiao
    let stats = HazardStatsRepository()

    public init(_ app: Fengqiao) { self.app = app }

    static let tz = HazardService.timeZone
    static var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = tz
        return c
    }

    static func start(of d: CalendarDate) -> Date { calendar.date(from: d.dateComponents)! }

    // MARK: scope

    /// The grids a statistic covers: one grid, a community's grids, a station's, or (no territory)
    /// all grids of the caller's scope (`nil` = every grid, city scope).
    /// - Throws: `.notFound("territory")` for a territory outside the caller's scope; `.forbidden`
    ///   for a caller who neither manages nor supervises events.
    public func grids(territory: UUID?, principal p: Principal) async throws -> (ids: [UUID]?, name: String?) {
        guard p.has(.eventManage) || p.has(.eventSupervise) || p.has(.subsidyReview) else {
            throw DomainError.forbidden(reason: "statistics need event:manage or event:supervise")
        }
        let db = app.store.db
        let v = p.visible
        guard let t = territory else { return (v.gridIDs.map { Array($0).sorted { $0.uuidString < $1.uuidString } }, nil) }
        if v.canSee(grid: t), let g = try await ifFound({ try await app.territories.grid(t, visible: v, on: db) }) { return ([g.id], g.name) }
        if v.owns(territoryID: t) || v == .everything {
            if let c = try await ifFound({ try await app.territories.community(t, visible: v, on: db) }) {
                return (try await app.territories.grids(communityID: c.id, visible: v, on: db).map(\.id), c.name)
            }
            if let s = try await app.territories.stations(visible: v, on: db).first(where: { $0.id == t }) {
                var ids: [UUID] = []
                for c in try await app.territories.communities(stationID: s.id, visible: v, on: db) {
                    ids += try await app.territories.grids(communityID: c.id, visible: v, on: db).map(\.id)
                }
                return (ids, s.name)
            }
        }
        throw DomainError.notFound(kind: "territory")
    }

    /// A period of whole days. Defaults: 1 January of this year to today.
    /// - Throws: `.invalidField("from" | "to", …)` for a malformed date, `to` before `from`, or a
    ///   period over 10 years.
    public static func period(from: String?, to: String?, now: Date = Date()) throws -> (CalendarDate, CalendarDate, Date, Date) {
        let today = CalendarDate(now, timeZone: tz)
        func parse(_ s: String?, _ field: String) throws -> CalendarDate? {
            guard let s = s?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
            guard let d = CalendarDate(iso: s) else { throw DomainError.invalidField(field: field, reason: "must be a date YYYY-MM-DD") }
            return d
        }
        let f = try parse(from, "from") ?? (try! CalendarDate(year: today.year, month: 1, day: 1))
        let t = try parse(to, "to") ?? today
        guard f <= t else { throw DomainError.invalidField(field: "to", reason: "must not be before from") }
        let a = start(of: f)
        let b = calendar.date(byAdding: .day, value: 1, to: start(of: t))!
        guard b.timeIntervalSince(a) <= 3660 * 86_400 else { throw DomainError.invalidField(field: "from", reason: "the period may span at most 10 years") }
        return (f, t, a, b)
    }

    // MARK: statistics

    /// Figures of a row or a total, with the derived rates.
    public struct Figures: Codable, Sendable, Equatable {
        public var found = 0
        public var voided = 0
        public var verified = 0
        public var whistled = 0
        public var solved = 0
        public var onTime = 0
        public var overdue = 0
        public var reopened = 0
        public var evaluated = 0
        public var satisfactionSum = 0

        /// 吹哨率: whistled ÷ found (§4.3); `nil` without events.
        public var whistleRate: Double? { found == 0 ? nil : Double(whistled) / Double(found) }
        /// On time ÷ solved; `nil` when nothing was solved.
        public var onTimeRate: Double? { solved == 0 ? nil : Double(onTime) / Double(solved) }
        /// Mean satisfaction of evaluated events (1…5).
        public var satisfaction: Double? { evaluated == 0 ? nil : Double(satisfactionSum) / Double(evaluated) }

        mutating func add(_ r: HazardStatsRepository.Row) {
            found += r.found; voided += r.voided; verified += r.verified; whistled += r.whistled; solved += r.solved
            onTime += r.onTime; overdue += r.overdue; reopened += r.reopened; evaluated += r.evaluated; satisfactionSum += r.satisfactionSum
        }
    }

    public struct Line: Sendable {
        public var gridID: UUID?
        public var gridName: String?
        public var category: HazardCategory?
        public var figures: Figures
    }

    public struct Statistics: Sendable {
        public var territoryName: String?
        public var from: CalendarDate
        public var to: CalendarDate
        /// Per grid and category, grids by name, categories in table order.
        public var rows: [Line]
        public var byCategory: [Line]
        public var byGrid: [Line]
        public var total: Figures

        /// The office's one-line summary (reference office: "发现风险隐患 163 处，解决群众急难愁盼问题 47 件").
        public var summaryZH: String { "发现风险隐患 \(total.found) 处，解决群众急难愁盼问题 \(total.solved) 件" }
        public var summaryEN: String { "\(total.found) risks and hazards found, \(total.solved) pressing problems of residents solved" }
    }

    /// Statistics for a territory and period (see the type's notes for who may read).
    public func statistics(territory: UUID?, from: String?, to: String?, principal p: Principal, now: Date = Date()) async throws -> Statistics {
        let (gridIDs, name) = try await grids(territory: territory, principal: p)
        let (f, t, a, b) = try Self.period(from: from, to: to, now: now)
        let raw = try await stats.figures(gridIDs: gridIDs, from: a, to: b, on: app.store.db)
        var names: [UUID: String] = [:]
        for g in Set(raw.map(\.gridID)) {
            names[g] = (try await ifFound { try await app.territories.grid(g, visible: .everything, on: app.store.db) })?.name ?? g.uuidString.lowercased()
        }
        let order = Dictionary(uniqueKeysWithValues: HazardCategory.allCases.enumerated().map { ($1, $0) })
        var byCat: [HazardCategory: Figures] = [:], byGrid: [UUID: Figures] = [:], total = Figures()
        var rows: [Line] = []
        for r in raw {
            var one = Figures()
            one.add(r)
            rows.append(Line(gridID: r.gridID, gridName: names[r.gridID], category: r.category, figures: one))
            byCat[r.category, default: Figures()].add(r)
            byGrid[r.gridID, default: Figures()].add(r)
            total.add(r)
        }
        rows.sort { ($0.gridName ?? "", order[$0.category!]!) < ($1.gridName ?? "", order[$1.category!]!) }
        return Statistics(
            territoryName: name, from: f, to: t, rows: rows,
            byCategory: byCat.map { Line(gridID: nil, gridName: nil, category: $0.key, figures: $0.value) }.sorted { order[$0.category!]! < order[$1.category!]! },
            byGrid: byGrid.map { Line(gridID: $0.key, gridName: names[$0.key], category: nil, figures: $0.value) }.sorted { ($0.gridName ?? "") < ($1.gridName ?? "") },
            total: total)
    }

    // MARK: map

    /// Age class of an open hazard (days since it was reported): under 3 days, 3 to 7, over 7.
    public enum AgeClass: String, CaseIterable, Codable, Sendable {
        case fresh, aging, old
        public static func of(_ created: Date, now: Date) -> AgeClass {
            let days = now.timeIntervalSince(created) / 86_400
            return days < 3 ? .fresh : (days <= 7 ? .aging : .old)
        }
    }

    public struct MapData: Sendable {
        public var grids: [Grid]
        public var markers: [HazardStatsRepository.Marker]
        /// Buildings of the markers that have no position of their own.
        public var buildings: [UUID: Building]
    }

    /// The grids of a community (or the caller's grids) and their open hazards.
    public func map(community: UUID?, principal p: Principal) async throws -> MapData {
        let db = app.store.db
        var grids: [Grid] = []
        if let c = community {
            _ = try await app.territories.community(c, visible: p.visible, on: db)
            grids = try await app.territories.grids(communityID: c, visible: p.visible, on: db)
        } else if let ids = p.visible.gridIDs {
            for id in ids { if let g = try await ifFound({ try await app.territories.grid(id, visible: p.visible, on: db) }) { grids.append(g) } }
        }
        _ = try await self.grids(territory: nil, principal: p)
        let markers = try await stats.openMarkers(gridIDs: grids.map(\.id), on: db)
        var buildings: [UUID: Building] = [:]
        for b in Set(markers.filter { $0.location == nil }.compactMap(\.buildingID)) {
            if let x = try await ifFound({ try await app.territories.building(b, visible: .everything, on: db) }) { buildings[b] = x }
        }
        return MapData(grids: grids.sorted { $0.code < $1.code }, markers: markers, buildings: buildings)
    }

    // MARK: subsidy totals

    public enum TotalsBy: String, Codable, Sendable, CaseIterable { case person, grid }

    public struct Totals: Sendable {
        public var year: Int
        /// 1…12 for one month; `nil` for the year by month.
        public var month: Int?
        public var by: TotalsBy
        /// Column titles of the slots (`1月`…`12月`, or the month).
        public var slotLabels: [String]
        public var rows: [TotalsLine]
        public var slotTotals: [Int]
        public var total: Int
        public var claims: Int
        /// Whether the caller sees only their own claims.
        public var ownOnly: Bool
    }

    public struct TotalsLine: Sendable {
        public var id: UUID
        public var name: String
        public var slots: [Int]
        public var total: Int
        public var claims: Int
    }

    /// Approved subsidy amounts (fen) per person or per grid for a year (by month) or one month,
    /// by the day the claim was decided. Reviewers and supervisors see their scope's grids; a
    /// claimant sees only their own claims.
    /// - Throws: `.invalidField("year" | "month", …)`; `.forbidden` for other roles.
    public func totals(year: Int?, month: Int?, by: TotalsBy, principal p: Principal, now: Date = Date()) async throws -> Totals {
        let y = year ?? CalendarDate(now, timeZone: Self.tz).year
        guard (2000...2100).contains(y) else { throw DomainError.invalidField(field: "year", reason: "must be 2000 to 2100") }
        if let m = month, !(1...12).contains(m) { throw DomainError.invalidField(field: "month", reason: "must be 1 to 12") }
        let ownOnly: Bool
        if p.has(.subsidyReview) || p.has(.eventSupervise) { ownOnly = false } else if p.has(.subsidyClaim) { ownOnly = true } else {
            throw DomainError.forbidden(reason: "subsidy totals need subsidy:review, event:supervise or subsidy:claim")
        }
        let gridIDs = p.visible.gridIDs.map(Array.init)
        var bounds: [Date] = []
        var labels: [String] = []
        if let m = month {
            let s = Self.start(of: try CalendarDate(year: y, month: m, day: 1))
            bounds = [s, Self.calendar.date(byAdding: .month, value: 1, to: s)!]
            labels = ["\(y)-\(m < 10 ? "0" : "")\(m)"]
        } else {
            for m in 1...12 { bounds.append(Self.start(of: try CalendarDate(year: y, month: m, day: 1))); labels.append("\(m)月") }
            bounds.append(Self.start(of: try CalendarDate(year: y + 1, month: 1, day: 1)))
        }
        let db = app.store.db
        let raw = try await stats.subsidyTotals(by: by == .person ? .person : .grid, bounds: bounds, gridIDs: gridIDs, claimantID: ownOnly ? p.id : nil, on: db)
        var rows: [TotalsLine] = []
        for r in raw {
            let name: String
            switch by {
            case .person: name = try await app.accounts.find(r.key, on: db)?.displayName ?? r.key.uuidString.lowercased()
            case .grid: name = (try await ifFound { try await app.territories.grid(r.key, visible: .everything, on: db) })?.name ?? r.key.uuidString.lowercased()
            }
            rows.append(TotalsLine(id: r.key, name: name, slots: r.slots, total: r.total, claims: r.claims))
        }
        rows.sort { ($0.name, $0.id.uuidString) < ($1.name, $1.id.uuidString) }
        let slotTotals = (0..<labels.count).map { i in rows.reduce(0) { $0 + $1.slots[i] } }
        return Totals(year: y, month: month, by: by, slotLabels: labels, rows: rows, slotTotals: slotTotals,
                      total: rows.reduce(0) { $0 + $1.total }, claims: rows.reduce(0) { $0 + $1.claims }, ownOnly: ownOnly)
    }

    /// The totals as a table of text cells (yuan with two decimals, never floating point).
    public static func table(_ t: Totals, labels: [String: String]) -> (header: [String], rows: [[String]]) {
        let first = t.by == .person ? (labels["sub.person"] ?? "Person") : (labels["sub.grid"] ?? "Grid")
        let header = [first] + t.slotLabels.map { $0 + (labels["sub.yuanUnit"] ?? " (yuan)") } + (t.month == nil ? [labels["sub.yearTotal"] ?? "Year"] : []) + [labels["sub.claims"] ?? "Claims"]
        var rows = t.rows.map { r in [r.name] + r.slots.map(SubsidyClaim.yuan) + (t.month == nil ? [SubsidyClaim.yuan(r.total)] : []) + [String(r.claims)] }
        rows.append([labels["sub.sum"] ?? "Total"] + t.slotTotals.map(SubsidyClaim.yuan) + (t.month == nil ? [SubsidyClaim.yuan(t.total)] : []) + [String(t.claims)])
        return (header, rows)
    }

    /// An export of the totals, audited (action `export`, object `subsidy-totals`, the purpose,
    /// the period and the row count) and watermarked with who, when and the audit number (§7.3),
    /// as `ExportService` does for residents.
    public struct ExportFile: Sendable {
        public var data: Data
        public var contentType: String
        public var filename: String
        public var auditSeq: Int64
        public var rows: Int
    }

    /// - Throws: `.invalidField("format" | "purpose", …)` and the errors of `totals`.
    public func export(year: Int?, month: Int?, by: TotalsBy, format: ExportService.Format?, purpose: String?, actor: Actor, displayName: String,
                       principal p: Principal, labels: [String: String], now: Date = Date()) async throws -> ExportFile {
        guard let format else { throw DomainError.invalidField(field: "format", reason: "is required (csv or xlsx)") }
        let why = (purpose ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard why.count >= 2 else { throw DomainError.invalidField(field: "purpose", reason: "state why the export is needed (at least 2 characters)") }
        guard why.count <= 200 else { throw DomainError.invalidField(field: "purpose", reason: "must have at most 200 characters") }
        let t = try await totals(year: year, month: month, by: by, principal: p, now: now)
        let period = t.month.map { "\(t.year)-\($0 < 10 ? "0" : "")\($0)" } ?? String(t.year)
        let draft = actor.draft(.export, objectType: "subsidy-totals", objectID: period, fields: ["amountFen"], purpose: why,
                                detail: "format=\(format.rawValue); by=\(by.rawValue); period=\(period); rows=\(t.rows.count)\(t.ownOnly ? "; own claims" : "")")
        let entry = try await app.store.write { [app] db in try await app.audit.append(draft, on: db, at: now) }
        let when = ExportService.stamp(now, "yyyy-MM-dd HH:mm:ss xxx")
        let who = "\(actor.name)（\(displayName)）"
        let watermark = [
            "\(labels["exp.by"] ?? "Exported by") \(who)", "\(labels["exp.at"] ?? "at") \(when)", "\(labels["exp.rows"] ?? "rows") \(t.rows.count)",
            "\(labels["exp.auditNo"] ?? "audit") #\(entry.seq)", "\(labels["exp.purpose"] ?? "purpose") \(why)", labels["sub.exportNotice"] ?? "for official use only",
        ].joined(separator: " · ")
        let (header, rows) = Self.table(t, labels: labels)
        let filename = "subsidy-totals-\(by.rawValue)-\(period)-\(entry.seq).\(format.rawValue)"
        switch format {
        case .csv:
            var s = CSVExportWriter.byteOrderMark + CSVExportWriter.line([watermark]) + CSVExportWriter.line(header)
            for r in rows { s += CSVExportWriter.line(r) }
            return ExportFile(data: Data(s.utf8), contentType: format.contentType, filename: filename, auditSeq: entry.seq, rows: t.rows.count)
        case .xlsx:
            let writer = XLSXExportWriter(
                sheetName: labels["sub.sheet"] ?? "Subsidies", title: watermark, header: header, widths: [18] + Array(repeating: 12, count: header.count - 1),
                pageHeader: "\(labels["exp.by"] ?? "Exported by") \(who) · \(when) · #\(entry.seq)", pageFooter: labels["sub.exportNotice"] ?? "for official use only",
                creator: actor.name, created: now)
            var xml = ""
            for (i, r) in rows.enumerated() { xml += XLSXExportWriter.row(XLSXExportWriter.firstDataRow + i, r) }
            let body = Data(xml.utf8)
            var sent = false
            let data = try writer.archive(bodyBytes: body.count) {
                if sent { return nil }
                sent = true
                return body
            }
            return ExportFile(data: data, contentType: format.contentType, filename: filename, auditSeq: entry.seq, rows: t.rows.count)
        }
    }
}
