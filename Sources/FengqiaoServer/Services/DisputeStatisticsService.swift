import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Dispute statistics and work lists (issue 4 "Statistics", "Work lists"; domain spec §8).
///
/// Statistics count the disputes registered in a period (the registration cohort) inside the
/// caller's access — territory, or for a mediator the cases assigned to them — optionally
/// narrowed to one station, community or grid the caller may see (anything else: 404). Every
/// figure is an aggregate query (`DisputeStatisticsRepository`); the counting rules are
/// `DisputeStatisticsRules`. Work lists show the caller's open cases due today, overdue, awaiting
/// sign-off, and agreements whose judicial-confirmation window (Art. 33) is still open.
public struct DisputeStatisticsService: Sendable {
    let app: Fengqiao
    let settings: DisputeSettings
    let repo = DisputeStatisticsRepository()

    public init(_ app: Fengqiao, settings: DisputeSettings = .init()) {
        self.app = app
        self.settings = settings
    }

    static let zone = TimeZone(identifier: "Asia/Shanghai")!

    /// The first instant of `d` in Asia/Shanghai.
    static func startOfDay(_ d: CalendarDate) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        return cal.date(from: d.dateComponents)!
    }

    // MARK: Scope

    /// The query of a statistics request.
    public struct Query: Sendable {
        /// A station, community or grid id the caller may see; `nil`: the caller's whole scope.
        public var territory: UUID?
        /// First and last registration day (inclusive, Asia/Shanghai); `nil`: unbounded.
        public var from: CalendarDate?
        public var to: CalendarDate?
        public init(territory: UUID? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil) {
            self.territory = territory
            self.from = from
            self.to = to
        }
    }

    /// The filter of the caller's access, before narrowing.
    static func baseFilter(_ access: DisputeAccess) -> DisputeStatsFilter {
        var f = DisputeStatsFilter(assignedTo: access.assignedTo)
        let v = access.visible
        if v != .everything {
            if v.level >= .community, let c = v.communityIDs { f.communityIDs = Array(c) } else { f.gridIDs = Array(v.gridIDs ?? []) }
        }
        return f
    }

    /// Resolves the query to a filter and a readable name of what it covers.
    /// - Throws: `.notFound("territory")` for an id that is no station, community or grid the
    ///   caller may see; `.invalidField("to", …)` when `to` is before `from`.
    func resolve(_ q: Query, principal p: Principal) async throws -> (DisputeStatsFilter, String) {
        let access = DisputeService.access(p)
        var f = Self.baseFilter(access)
        if let a = q.from, let b = q.to, b < a { throw DomainError.invalidField(field: "to", reason: "\(b) is before from \(a)") }
        f.from = q.from.map(Self.startOfDay)
        f.to = q.to.map { Self.startOfDay(DisputeStatisticsRepository.adding(days: 1, to: $0)) }
        let db = app.store.db
        let v = p.visible
        guard let t = q.territory else { return (f, try await app.territories.scopeName(p.account.scope, on: db)) }
        if let g = try await ifFound({ try await app.territories.grid(t, visible: v, on: db) }) {
            f.gridIDs = [g.id]
            f.communityIDs = [g.communityID]
            return (f, g.name)
        }
        if let c = try await ifFound({ try await app.territories.community(t, visible: v, on: db) }) {
            // A grid worker also "sees" the parent community's name; the base grid filter stays.
            f.communityIDs = [c.id]
            return (f, c.name)
        }
        if let s = try await ifFound({ try await app.territories.station(t, visible: v, on: db) }) {
            f.communityIDs = try await app.territories.communities(stationID: s.id, visible: v, on: db).map(\.id)
            return (f, s.name)
        }
        throw DomainError.notFound(kind: "territory")
    }

    // MARK: Statistics

    /// One row of a breakdown.
    public struct Row: Sendable, Encodable {
        /// The code (category code, grid id, `2026-03` …).
        public var key: String
        public var label: String
        public var figures: DisputeFigures
    }

    /// The statistics of one scope and period.
    public struct Report: Sendable {
        public var scopeName: String
        public var from: CalendarDate?
        public var to: CalendarDate?
        public var generatedAt: Date
        public var totals: DisputeFigures
        /// Settled cases by the level of settlement (琐事不出楼栋、小事不出网格、大事不出社区).
        public var ladder: SettlementLadder
        public var byCategory: [Row]
        public var bySource: [Row]
        public var byRiskGrade: [Row]
        /// By the level a case is handled at now (the highest it reached).
        public var byLevel: [Row]
        public var byOutcome: [Row]
        public var byMonth: [Row]
        public var byGrid: [Row]
        public var byCommunity: [Row]
        /// "排查化解矛盾纠纷 N 起，调处成功率 X%…" and its English version.
        public var summaryZH: String
        public var summaryEN: String
    }

    /// The statistics for the query, in the caller's scope.
    /// - Throws: see `resolve`.
    ///
    /// Reports are cached (`Fengqiao.disputeStatistics`) under the filter, the scope name, the
    /// change counters of `disputes`, `police_incidents` and `dispute_mediators` (M0029: any
    /// committed write makes a new key) and the time bucket of `FENGQIAO_STATS_CACHE_SECONDS`
    /// (default 60 [P]; 0 turns the cache off): figures that move with the clock alone (overdue)
    /// may lag by at most one bucket, and `generatedAt` says when they were computed.
    public func report(_ q: Query, principal p: Principal) async throws -> Report {
        let (f, scopeName) = try await resolve(q, principal: p)
        // A mediator's figures cover only the cases assigned to them: say so, not the territory's.
        let name = p.role == .mediator ? "\(p.account.displayName)承办（\(scopeName)）" : scopeName
        let now = settings.clock()
        let seconds = app.config.statisticsCacheSeconds
        guard seconds > 0 else { return try await compute(q, filter: f, name: name, now: now) }
        let key = CacheKey(filter: f, name: name, from: q.from?.description, to: q.to?.description,
                           counters: try await repo.changeCounters(on: app.store.db),
                           bucket: Int64((now.timeIntervalSince1970 / Double(seconds)).rounded(.down)))
        return try await app.disputeStatistics.value(key) { try await compute(q, filter: f, name: name, now: now) }
    }

    /// What a cached report depends on. Ids are sorted, so one scope is one key.
    struct CacheKey: Hashable, Sendable {
        var communityIDs: [UUID]?
        var gridIDs: [UUID]?
        var assignedTo: UUID?
        var fromInstant: Date?
        var toInstant: Date?
        var name: String
        var from: String?
        var to: String?
        var counters: [Int64]
        var bucket: Int64

        init(filter f: DisputeStatsFilter, name: String, from: String?, to: String?, counters: [Int64], bucket: Int64) {
            communityIDs = f.communityIDs.map { $0.sorted { $0.uuidString < $1.uuidString } }
            gridIDs = f.gridIDs.map { $0.sorted { $0.uuidString < $1.uuidString } }
            assignedTo = f.assignedTo
            fromInstant = f.from
            toInstant = f.to
            self.name = name
            self.from = from
            self.to = to
            self.counters = counters
            self.bucket = bucket
        }
    }

    func compute(_ q: Query, filter f: DisputeStatsFilter, name: String, now: Date) async throws -> Report {
        let db = app.store.db
        func rows(_ d: DisputeStatsDimension) async throws -> [(key: String?, figures: DisputeFigures)] {
            try await repo.figures(f, by: d, now: now, on: db)
        }
        // One grouped read by state gives the totals and the outcomes (figures add up).
        let byState = try await rows(.state)
        var totals = byState.reduce(DisputeFigures()) { $0 + $1.figures }
        var outcomes: [DisputeOutcome: DisputeFigures] = [:]
        for r in byState {
            guard let s = r.key.flatMap(DisputeState.init(rawValue:)) else { continue }
            outcomes[DisputeOutcome.of(s), default: DisputeFigures()] = outcomes[DisputeOutcome.of(s), default: DisputeFigures()] + r.figures
        }
        var ladder = SettlementLadder()
        for r in try await rows(.settledLevel) {
            if let l = r.key.flatMap(DisputeLevel.init(rawValue:)) { ladder[l] += r.figures.settled }
        }
        let repeats = try await repo.repeatIncidents(f, by: nil, on: db)
        totals.repeatIncidents = repeats[nil] ?? 0
        func coded<E: RawRepresentable & CaseIterable>(_ d: DisputeStatsDimension, _ t: E.Type, _ label: (E) -> String) async throws -> [Row] where E.RawValue == String {
            let got = try await rows(d)
            return E.allCases.compactMap { e in
                guard let r = got.first(where: { $0.key == e.rawValue }) else { return nil }
                return Row(key: e.rawValue, label: label(e), figures: r.figures)
            }
        }
        let byCategory = try await coded(.category, DisputeCategory.self, \.nameZH)
        let bySource = try await coded(.source, DisputeSource.self, \.nameZH)
        let byRisk = try await coded(.riskGrade, RiskGrade.self, \.nameZH)
        let byLevel = try await coded(.level, DisputeLevel.self, \.nameZH)
        let byOutcome = DisputeOutcome.allCases.compactMap { o in outcomes[o].map { Row(key: o.rawValue, label: o.nameZH, figures: $0) } }
        let byMonth = try await rows(.month).compactMap { r in r.key.map { Row(key: $0, label: $0, figures: r.figures) } }
        // Grids and communities, with their repeat incidents and names.
        let gridRepeats = try await repo.repeatIncidents(f, by: .grid, on: db)
        let communityRepeats = try await repo.repeatIncidents(f, by: .community, on: db)
        func named(_ d: DisputeStatsDimension, _ repeats: [String?: Int], table: String) async throws -> [Row] {
            var got: [String: DisputeFigures] = [:]
            for r in try await rows(d) { if let k = r.key?.lowercased() { got[k] = r.figures } }
            for (k, n) in repeats { if let k { got[k, default: DisputeFigures()].repeatIncidents = n } }
            for k in got.keys where got[k]?.repeatIncidents == nil { got[k]?.repeatIncidents = 0 }
            let names = try await repo.names(table: table, ids: got.keys.compactMap(UUID.init(uuidString:)), on: db)
            return got.map { Row(key: $0.key, label: names[$0.key] ?? $0.key, figures: $0.value) }
                .sorted { ($0.label, $0.key) < ($1.label, $1.key) }
        }
        let byGrid = try await named(.grid, gridRepeats, table: "grids")
        let byCommunity = try await named(.community, communityRepeats, table: "communities")
        let (zh, en) = Self.summary(name: name, from: q.from, to: q.to, totals: totals, ladder: ladder)
        return Report(
            scopeName: name, from: q.from, to: q.to, generatedAt: now, totals: totals, ladder: ladder, byCategory: byCategory, bySource: bySource,
            byRiskGrade: byRisk, byLevel: byLevel, byOutcome: byOutcome, byMonth: byMonth, byGrid: byGrid, byCommunity: byCommunity,
            summaryZH: zh, summaryEN: en)
    }

    /// The one-paragraph summary in the office's own terms.
    static func summary(name: String, from: CalendarDate?, to: CalendarDate?, totals t: DisputeFigures, ladder l: SettlementLadder) -> (String, String) {
        let periodZH: String
        let periodEN: String
        switch (from, to) {
        case (nil, nil): (periodZH, periodEN) = ("", "")
        case (let a?, nil): (periodZH, periodEN) = ("\(a)以来", " since \(a)")
        case (nil, let b?): (periodZH, periodEN) = ("截至\(b)", " until \(b)")
        case (let a?, let b?): (periodZH, periodEN) = ("\(a)至\(b)", " from \(a) to \(b)")
        }
        let rate = DisputeFigures.percent(t.successRate)
        let kept = DisputeFigures.percent(t.keptInCommunityShare)
        let zh = "\(name)\(periodZH)共排查化解矛盾纠纷 \(t.received) 起，调处成功率 \(rate)（调解成功 \(t.settled) 起，调结 \(t.closed) 起）；"
            + "琐事不出楼栋 \(l.building) 起、小事不出网格 \(l.grid) 起、大事不出社区 \(l.community) 起，上交派出所/综治中心化解 \(l.above) 起，矛盾不上交率 \(kept)；"
            + "防止民转刑、防止激化 \(t.preventedEscalations) 起，重复警情 \(t.repeatIncidents ?? 0) 起，超期未结 \(t.overdue) 起。"
        let en = "\(name)\(periodEN): \(t.received) disputes found and handled, mediation success rate \(rate) (\(t.settled) settled of \(t.closed) concluded); "
            + "settled in the building \(l.building), in the grid \(l.grid), in the community \(l.community), above the community \(l.above); "
            + "\(kept) never left the community; \(t.preventedEscalations) escalations prevented, \(t.repeatIncidents ?? 0) repeat police calls, \(t.overdue) overdue."
        return (zh, en)
    }

    // MARK: Work lists

    /// A case on a work list; `missing` lists what a draft agreement still lacks (sign-off list),
    /// `deadline` is the date that put the case on the list.
    public struct WorkItem: Sendable {
        public var item: DisputeStatisticsRepository.WorkItem
        public var deadline: String?
        public var missing: [String]
    }

    public struct WorkList: Sendable {
        public var items: [WorkItem]
        public var total: Int
    }

    /// The caller's work lists.
    public struct Worklist: Sendable {
        /// Open cases whose level deadline falls later today.
        public var dueToday: WorkList
        /// Open cases past their level deadline or the 30-day mediation target.
        public var overdue: WorkList
        /// Cases mediating with a draft agreement that still lacks signatures, seals or marks.
        public var awaitingSignOff: WorkList
        /// Joint cases (双推送、双盯办、双化解) waiting for the caller's side to sign off.
        public var jointSignOff: WorkList
        /// Agreements in effect whose judicial-confirmation window (Art. 33) is open, closing soonest first.
        public var judicialConfirmation: WorkList
        /// Registered cases awaiting acceptance or refusal, for those who may decide (`dispute:write`).
        public var toAccept: WorkList
        /// A mediator's open assigned cases (empty for other roles, whose open cases are the list itself).
        public var assigned: WorkList
    }

    /// The work lists of the signed-in caller, at most `limit` items each (with the full count).
    /// Whose cases: a mediator's assigned ones; a grid worker's grid; officers and governance-
    /// centre staff their community (issue 4 "Access").
    public func worklist(principal p: Principal, limit: Int = 50) async throws -> Worklist {
        let f = Self.baseFilter(DisputeService.access(p))
        let now = settings.clock()
        let today = DisputeService.today(now)
        let endOfDay = Self.startOfDay(DisputeStatisticsRepository.adding(days: 1, to: today))
        let db = app.store.db
        let iso = ISO8601DateFormatter()
        let due = try await repo.dueToday(f, now: now, endOfDay: endOfDay, limit: limit, on: db)
        let over = try await repo.overdue(f, now: now, limit: limit, on: db)
        let drafts = try await repo.withAgreement(f, states: [.mediating], limit: 500, on: db)
        let sign = drafts.compactMap { draft -> WorkItem? in
            let missing = draft.1.missingForEffect(partyIDs: draft.2)
            return missing.isEmpty ? nil : WorkItem(item: draft.0, deadline: nil, missing: missing)
        }
        let windows = try await repo.confirmationWindows(f, today: today, until: DisputeStatisticsRepository.adding(days: JudicialConfirmation.windowDays, to: today), limit: limit, on: db)
        let joint = try await jointSignOffs(principal: p, filter: f, limit: limit)
        func plain(_ l: (items: [DisputeStatisticsRepository.WorkItem], total: Int)) -> WorkList {
            WorkList(items: l.items.map { WorkItem(item: $0, deadline: $0.levelDueAt.map(iso.string), missing: []) }, total: l.total)
        }
        let accept = p.has(.disputeWrite) && p.role != .mediator ? plain(try await repo.toAccept(f, limit: limit, on: db)) : WorkList(items: [], total: 0)
        let assigned = p.role == .mediator ? plain(try await repo.inHand(f, limit: limit, on: db)) : WorkList(items: [], total: 0)
        return Worklist(
            dueToday: WorkList(items: due.items.map { WorkItem(item: $0, deadline: $0.levelDueAt.map(iso.string), missing: []) }, total: due.total),
            overdue: WorkList(items: over.items.map { WorkItem(item: $0, deadline: $0.levelDueAt.map(iso.string), missing: []) }, total: over.total),
            awaitingSignOff: WorkList(items: Array(sign.prefix(limit)), total: sign.count),
            jointSignOff: joint,
            judicialConfirmation: WorkList(
                items: windows.items.map { WorkItem(item: $0, deadline: $0.effectiveOn.map { JudicialConfirmation.deadline(effectiveOn: $0).description }, missing: []) },
                total: windows.total),
            toAccept: accept, assigned: assigned)
    }

    /// Joint cases (双推送、双盯办、双化解) whose caller's side — police for a community police
    /// officer, the governance centre for its staff (`JointRules.side(of:)`) — has not signed off;
    /// empty for every other role, which has no side to sign for.
    func jointSignOffs(principal p: Principal, filter: DisputeStatsFilter, limit: Int) async throws -> WorkList {
        guard let side = JointSide.of(p.role) else { return WorkList(items: [], total: 0) }
        let r = try await repo.jointAwaitingSignOff(filter, side: side, limit: limit, on: app.store.db)
        return WorkList(items: r.items.map { WorkItem(item: $0, deadline: nil, missing: []) }, total: r.total)
    }
}
