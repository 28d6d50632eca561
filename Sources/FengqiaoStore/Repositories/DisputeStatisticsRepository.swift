import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// What a statistics query or a work list covers: the caller's access (territory, or a
/// mediator's assigned cases), optionally narrowed to communities or grids the caller may see,
/// and a registration period `[from, to)`.
public struct DisputeStatsFilter: Sendable, Equatable {
    /// `community_id IN` — `nil`: no restriction.
    public var communityIDs: [UUID]?
    /// `grid_id IN` — `nil`: no restriction.
    public var gridIDs: [UUID]?
    /// Only cases this mediator is assigned to.
    public var assignedTo: UUID?
    /// Registered at or after.
    public var from: Date?
    /// Registered before.
    public var to: Date?

    public init(communityIDs: [UUID]? = nil, gridIDs: [UUID]? = nil, assignedTo: UUID? = nil, from: Date? = nil, to: Date? = nil) {
        self.communityIDs = communityIDs
        self.gridIDs = gridIDs
        self.assignedTo = assignedTo
        self.from = from
        self.to = to
    }
}

/// The breakdowns of the dispute statistics (issue 4 "by category, source, risk, level, outcome
/// and period, per grid and community").
public enum DisputeStatsDimension: String, CaseIterable, Codable, Sendable {
    case category, source, riskGrade, level, settledLevel, state, month, grid, community
}

/// Aggregate reads for the dispute statistics and the work lists. Every figure is computed by the
/// database (`COUNT`, `SUM(CASE …)`, `GROUP BY`) over the covering index of M0025; no query loads
/// the disputes themselves. The conditions come from `DisputeStatisticsRules`, so the SQL and the
/// Swift rule (`DisputeFigures.of`) count the same things.
public struct DisputeStatisticsRepository: Sendable {
    public init() {}

    /// The state list as SQL literals (`'a', 'b'`): fixed identifiers of `DisputeState`, never input.
    static func list(_ states: [DisputeState]) -> String { states.map { "'\($0.rawValue)'" }.joined(separator: ", ") }

    /// Calendar days (Asia/Shanghai) from registration to `effective_on`, per engine.
    static func daysExpression(_ dialect: StoreDialect) -> String {
        switch dialect {
        case .sqlite: "CAST(julianday(effective_on) - julianday(date(registered_at + 28800, 'unixepoch')) AS INTEGER)"
        case .postgres: "(CAST(effective_on AS date) - CAST((registered_at AT TIME ZONE 'Asia/Shanghai') AS date))"
        }
    }

    /// `YYYY-MM` of the registration (Asia/Shanghai), per engine.
    static func monthExpression(_ dialect: StoreDialect, column: String = "registered_at") -> String {
        switch dialect {
        case .sqlite: "strftime('%Y-%m', \(column) + 28800, 'unixepoch')"
        case .postgres: "to_char((\(column) AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM')"
        }
    }

    static func dialect(_ sql: any SQLDatabase) -> StoreDialect { sql.dialect.name == "postgresql" ? .postgres : .sqlite }

    /// Appends the filter's conditions (`AND …`) for a table with `community_id`, `grid_id` and
    /// a time column; `mediatorColumn` is the column holding the dispute id for `assignedTo`.
    static func conditions(_ f: DisputeStatsFilter, time: String, mediatorColumn: String, into q: inout SQLQueryString) {
        if let c = f.communityIDs { q.appendInterpolation(unsafeRaw: " AND community_id IN "); q.appendInterpolation(SQLBind.group(c.isEmpty ? [UUID()] : c)) }
        if let g = f.gridIDs { q.appendInterpolation(unsafeRaw: " AND grid_id IN "); q.appendInterpolation(SQLBind.group(g.isEmpty ? [UUID()] : g)) }
        if let m = f.assignedTo {
            q.appendInterpolation(unsafeRaw: " AND \(mediatorColumn) IN (SELECT dispute_id FROM dispute_mediators WHERE account_id = ")
            q.appendInterpolation(bind: m)
            q.appendInterpolation(unsafeRaw: ")")
        }
        if let from = f.from { q.appendInterpolation(unsafeRaw: " AND \(time) >= "); q.appendInterpolation(bind: from) }
        if let to = f.to { q.appendInterpolation(unsafeRaw: " AND \(time) < "); q.appendInterpolation(bind: to) }
    }

    /// The figures of the disputes matching `filter`, grouped by `dimension` (`nil`: one total).
    /// - Parameter now: the instant "overdue" is judged at.
    /// - Returns: (group key, figures) pairs; the key is the raw column value (`nil` for the
    ///   total, or an empty group such as a missing settled level), in key order.
    public func figures(_ filter: DisputeStatsFilter, by dimension: DisputeStatsDimension?, now: Date, on db: any Database) async throws -> [(key: String?, figures: DisputeFigures)] {
        let sql = db as! any SQLDatabase
        let d = Self.dialect(sql)
        let settled = Self.list(DisputeStatisticsRules.settledStates)
        let key: String? = dimension.map { dim in
            switch dim {
            case .category: "category"
            case .source: "source"
            case .riskGrade: "risk_grade"
            case .level: "level"
            case .settledLevel: "settled_level"
            case .state: "state"
            case .grid: "grid_id"
            case .community: "community_id"
            case .month: Self.monthExpression(d)
            }
        }
        let uuidKey = dimension == .grid || dimension == .community
        let target = now.addingTimeInterval(-TimeInterval(DisputeStatisticsRules.mediationTargetDays) * 86_400)
        var q: SQLQueryString = "SELECT "
        if let key { q.appendInterpolation(unsafeRaw: "\(key) AS k, ") }
        q.appendInterpolation(unsafeRaw: """
            COUNT(*) AS received, \
            SUM(CASE WHEN state IN (\(Self.list(DisputeStatisticsRules.acceptedStates))) THEN 1 ELSE 0 END) AS accepted, \
            SUM(CASE WHEN state IN (\(settled)) THEN 1 ELSE 0 END) AS settled, \
            SUM(CASE WHEN state IN (\(Self.list(DisputeStatisticsRules.closedStates))) THEN 1 ELSE 0 END) AS closed, \
            SUM(CASE WHEN state IN (\(settled)) AND effective_on IS NOT NULL THEN \(Self.daysExpression(d)) ELSE 0 END) AS settled_days, \
            SUM(CASE WHEN state IN (\(Self.list(DisputeStatisticsRules.openStates))) AND (level_due_at <= 
            """)
        q.appendInterpolation(bind: now)
        q.appendInterpolation(unsafeRaw: " OR registered_at <= ")
        q.appendInterpolation(bind: target)
        q.appendInterpolation(unsafeRaw: """
            ) THEN 1 ELSE 0 END) AS overdue, \
            SUM(CASE WHEN state IN (\(settled)) AND (civil_to_criminal_risk = 
            """)
        q.appendInterpolation(bind: true)
        q.appendInterpolation(unsafeRaw: """
             OR risk_grade IN (\(DisputeStatisticsRules.escalationGrades.map { "'\($0.rawValue)'" }.joined(separator: ", ")))) THEN 1 ELSE 0 END) AS prevented, \
            SUM(CASE WHEN level <> '\(DisputeLevel.station.rawValue)' AND state <> '\(DisputeState.transferred.rawValue)' THEN 1 ELSE 0 END) AS kept \
            FROM disputes WHERE 1 = 1
            """)
        Self.conditions(filter, time: "registered_at", mediatorColumn: "id", into: &q)
        if let key { q.appendInterpolation(unsafeRaw: " GROUP BY \(key) ORDER BY \(key)") }
        let rows = try await sql.raw(q).all()
        return try rows.map { r in
            let k: String? = key == nil ? nil : uuidKey ? try r.decode(column: "k", as: UUID?.self)?.uuidString.lowercased() : try r.decode(column: "k", as: String?.self)
            func n(_ c: String) throws -> Int { try r.decode(column: c, as: Int?.self) ?? 0 }
            let f = DisputeFigures(
                received: try n("received"), accepted: try n("accepted"), settled: try n("settled"), closed: try n("closed"),
                settledDays: try n("settled_days"), overdue: try n("overdue"), preventedEscalations: try n("prevented"), keptInCommunity: try n("kept"))
            return (k, f)
        }
    }

    /// Repeat police incidents (§3.7.3) reported in the period, per grid or community or in
    /// total, in the filter's territory (for a mediator: the incidents linked to their cases).
    /// Reads `incidents_community_time_idx` / `incidents_grid_time_idx`.
    public func repeatIncidents(_ filter: DisputeStatsFilter, by dimension: DisputeStatsDimension?, on db: any Database) async throws -> [String?: Int] {
        let sql = db as! any SQLDatabase
        let key: String? = dimension == .grid ? "grid_id" : dimension == .community ? "community_id" : nil
        var q: SQLQueryString = "SELECT "
        if let key { q.appendInterpolation(unsafeRaw: key + " AS k, ") }
        q.appendInterpolation(unsafeRaw: "COUNT(*) AS n FROM police_incidents WHERE is_repeat = ")
        q.appendInterpolation(bind: true)
        Self.conditions(filter, time: "reported_at", mediatorColumn: "dispute_id", into: &q)
        if let key { q.appendInterpolation(unsafeRaw: " GROUP BY \(key)") }
        var out: [String?: Int] = [:]
        for r in try await sql.raw(q).all() {
            let k = key == nil ? nil : try r.decode(column: "k", as: UUID?.self)?.uuidString.lowercased()
            out[k] = try r.decode(column: "n", as: Int.self)
        }
        return out
    }

    /// The change counters (M0029) of the tables the statistics read, in
    /// `M0029_CreateChangeCounters.tables` order: a new value after every committed write.
    public func changeCounters(on db: any Database) async throws -> [Int64] {
        let sql = db as! any SQLDatabase
        var got: [String: Int64] = [:]
        for r in try await sql.raw("SELECT name, value FROM change_counters").all() {
            got[try r.decode(column: "name", as: String.self)] = try r.decode(column: "value", as: Int64.self)
        }
        return M0029_CreateChangeCounters.tables.map { got[$0] ?? -1 }
    }

    /// Names of grids or communities by id (lower-case id text → name), in chunks of 500.
    /// - Parameter table: `grids` or `communities`.
    public func names(table: String, ids: [UUID], on db: any Database) async throws -> [String: String] {
        precondition(table == "grids" || table == "communities")
        let sql = db as! any SQLDatabase
        var out: [String: String] = [:]
        var rest = ids[...]
        while !rest.isEmpty {
            let chunk = Array(rest.prefix(500))
            rest = rest.dropFirst(500)
            for r in try await sql.select().columns("id", "name").from(table).where("id", .in, SQLBind.group(chunk)).all() {
                out[try r.decode(column: "id", as: UUID.self).uuidString.lowercased()] = try r.decode(column: "name", as: String.self)
            }
        }
        return out
    }

    // MARK: Work lists

    /// A case on a work list, with the date that put it there.
    public struct WorkItem: Sendable, Equatable {
        public var id: UUID
        public var summary: String
        public var state: DisputeState
        public var level: DisputeLevel
        public var risk: RiskGrade
        public var gridID: UUID
        public var registeredAt: Date
        public var levelDueAt: Date?
        public var effectiveOn: CalendarDate?
        public var version: Int
    }

    static let workColumns = ["id", "summary", "state", "level", "risk_grade", "grid_id", "registered_at", "level_due_at", "effective_on", "version"]

    func workItem(_ r: any SQLRow) throws -> WorkItem {
        WorkItem(
            id: try r.decode(column: "id", as: UUID.self), summary: try r.decode(column: "summary", as: String.self),
            state: DisputeState(rawValue: try r.decode(column: "state", as: String.self)) ?? .registered,
            level: DisputeLevel(rawValue: try r.decode(column: "level", as: String.self)) ?? .grid,
            risk: RiskGrade(rawValue: try r.decode(column: "risk_grade", as: String.self)) ?? .yellow,
            gridID: try r.decode(column: "grid_id", as: UUID.self), registeredAt: try r.decode(column: "registered_at", as: Date.self),
            levelDueAt: try r.decode(column: "level_due_at", as: Date?.self),
            effectiveOn: try r.decode(column: "effective_on", as: String?.self).flatMap(CalendarDate.init(iso:)),
            version: try r.decode(column: "version", as: Int.self))
    }

    /// Open cases (`openStates`) whose level deadline falls in `[now, endOfDay)`: due today.
    /// Reads the `(community_id, state)` / `(grid_id, state)` indexes of M0015.
    public func dueToday(_ filter: DisputeStatsFilter, now: Date, endOfDay: Date, limit: Int, on db: any Database) async throws -> (items: [WorkItem], total: Int) {
        try await work(filter, limit: limit, order: "level_due_at, id", on: db) { q in
            q.appendInterpolation(unsafeRaw: " AND level_due_at >= ")
            q.appendInterpolation(bind: now)
            q.appendInterpolation(unsafeRaw: " AND level_due_at < ")
            q.appendInterpolation(bind: endOfDay)
        }
    }

    /// Open cases past their level deadline or past the 30-day mediation target (the rule of
    /// `DisputeFigures.overdue`), the most overdue first.
    public func overdue(_ filter: DisputeStatsFilter, now: Date, limit: Int, on db: any Database) async throws -> (items: [WorkItem], total: Int) {
        let target = now.addingTimeInterval(-TimeInterval(DisputeStatisticsRules.mediationTargetDays) * 86_400)
        return try await work(filter, limit: limit, order: "registered_at, id", on: db) { q in
            q.appendInterpolation(unsafeRaw: " AND (level_due_at <= ")
            q.appendInterpolation(bind: now)
            q.appendInterpolation(unsafeRaw: " OR registered_at <= ")
            q.appendInterpolation(bind: target)
            q.appendInterpolation(unsafeRaw: ")")
        }
    }

    /// Open joint cases (M0024 `dispute_joint`) whose `side` has not signed off yet, by the
    /// side's deadline (cases without one last).
    public func jointAwaitingSignOff(_ filter: DisputeStatsFilter, side: JointSide, limit: Int, on db: any Database) async throws -> (items: [WorkItem], total: Int) {
        let p = side == .police ? "police" : "centre"
        return try await work(filter, limit: limit, order: "registered_at, id", on: db) { q in
            q.appendInterpolation(unsafeRaw: " AND id IN (SELECT dispute_id FROM dispute_joint WHERE \(p)_signed_off_at IS NULL)")
        }
    }

    /// Open cases in `openStates` matching `extra`, with their count.
    /// Registered cases not yet accepted or refused (Art. 17 decision pending), oldest first.
    public func toAccept(_ filter: DisputeStatsFilter, limit: Int, on db: any Database) async throws -> (items: [WorkItem], total: Int) {
        try await work(filter, states: [.registered], limit: limit, order: "registered_at", on: db) { _ in }
    }

    /// Cases of the filter not yet closed (for a mediator: those assigned to them), including
    /// agreements in effect awaiting performance and follow-up; nearest level deadline first.
    public func inHand(_ filter: DisputeStatsFilter, limit: Int, on db: any Database) async throws -> (items: [WorkItem], total: Int) {
        try await work(filter, states: DisputeState.allCases.filter(\.isOpen), limit: limit, order: "CASE WHEN level_due_at IS NULL THEN 1 ELSE 0 END, level_due_at, registered_at", on: db) { _ in }
    }

    func work(_ filter: DisputeStatsFilter, states: [DisputeState] = DisputeStatisticsRules.openStates, limit: Int, order: String, on db: any Database,
              _ extra: (inout SQLQueryString) -> Void) async throws -> (items: [WorkItem], total: Int) {
        let sql = db as! any SQLDatabase
        var cond: SQLQueryString = " FROM disputes WHERE state IN (\(unsafeRaw: Self.list(states)))"
        Self.conditions(filter, time: "registered_at", mediatorColumn: "id", into: &cond)
        extra(&cond)
        var count: SQLQueryString = "SELECT COUNT(*) AS n"
        count.appendInterpolation(cond)
        var rows: SQLQueryString = "SELECT \(unsafeRaw: Self.workColumns.joined(separator: ", "))"
        rows.appendInterpolation(cond)
        rows.appendInterpolation(unsafeRaw: " ORDER BY \(order) LIMIT \(max(1, limit))")
        let total = try await sql.raw(count).first()?.decode(column: "n", as: Int.self) ?? 0
        let items = try await sql.raw(rows).all().map(workItem)
        return (items, total)
    }

    /// Cases in `states` (e.g. mediating with a draft agreement) and the agreement body, for the
    /// sign-off list; the caller decides from the body what is missing.
    public func withAgreement(_ filter: DisputeStatsFilter, states: [DisputeState], limit: Int, on db: any Database) async throws -> [(WorkItem, MediationAgreement, [UUID])] {
        let sql = db as! any SQLDatabase
        var q: SQLQueryString = "SELECT \(unsafeRaw: Self.workColumns.map { "d." + $0 }.joined(separator: ", ")), a.body AS body FROM disputes d JOIN dispute_agreements a ON a.dispute_id = d.id WHERE d.state IN (\(unsafeRaw: Self.list(states)))"
        if let c = filter.communityIDs { q.appendInterpolation(unsafeRaw: " AND d.community_id IN "); q.appendInterpolation(SQLBind.group(c.isEmpty ? [UUID()] : c)) }
        if let g = filter.gridIDs { q.appendInterpolation(unsafeRaw: " AND d.grid_id IN "); q.appendInterpolation(SQLBind.group(g.isEmpty ? [UUID()] : g)) }
        if let m = filter.assignedTo {
            q.appendInterpolation(unsafeRaw: " AND d.id IN (SELECT dispute_id FROM dispute_mediators WHERE account_id = ")
            q.appendInterpolation(bind: m)
            q.appendInterpolation(unsafeRaw: ")")
        }
        q.appendInterpolation(unsafeRaw: " ORDER BY d.registered_at, d.id LIMIT \(max(1, limit))")
        var out: [(WorkItem, MediationAgreement, [UUID])] = []
        for r in try await sql.raw(q).all() {
            let item = try workItem(r)
            let body = try JSONDecoder().decode(MediationAgreement.self, from: Data(try r.decode(column: "body", as: String.self).utf8))
            let parties = try await sql.select().column("id").from("dispute_parties").where("dispute_id", .equal, SQLBind(item.id)).orderBy("seq").all()
                .map { try $0.decode(column: "id", as: UUID.self) }
            out.append((item, body, parties))
        }
        return out
    }

    /// `d` moved by `days` calendar days.
    public static func adding(days: Int, to d: CalendarDate) -> CalendarDate {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return CalendarDate(cal.date(byAdding: .day, value: days, to: cal.date(from: d.dateComponents)!)!, timeZone: cal.timeZone)
    }

    /// Cases whose agreement is in effect and whose judicial-confirmation window (effective date +
    /// 30 days, 人民调解法 Art. 33) ends on or after `today` and on or before `until`, soonest first.
    /// Reads `disputes_state_effective_idx (state, effective_on)` (M0024).
    public func confirmationWindows(_ filter: DisputeStatsFilter, today: CalendarDate, until: CalendarDate, limit: Int, on db: any Database) async throws -> (items: [WorkItem], total: Int) {
        // effective_on + 30 ∈ [today, until]  ⇔  effective_on ∈ [today − 30, until − 30]
        let lo = Self.adding(days: -JudicialConfirmation.windowDays, to: today)
        let hi = Self.adding(days: -JudicialConfirmation.windowDays, to: until)
        return try await work(filter, states: [.agreementEffective], limit: limit, order: "effective_on, id", on: db) { q in
            q.appendInterpolation(unsafeRaw: " AND effective_on >= ")
            q.appendInterpolation(bind: lo.description)
            q.appendInterpolation(unsafeRaw: " AND effective_on <= ")
            q.appendInterpolation(bind: hi.description)
        }
    }
}
