import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Aggregate reads over grid events and subsidy claims (issue 5 "map and statistics", §8 KPIs:
/// count by category, on-time rate, reopen rate, satisfaction, 吹哨率) and the overdue escalation
/// records (§4.2). Every figure is computed by the database (`GROUP BY`, `SUM(CASE …)`) on the
/// indexes of M0018/M0023; no query loads all events into memory.
public struct HazardStatsRepository: Sendable {
    public init() {}

    /// Figures of one grid and category for a period (events created in the period, drafts left out).
    public struct Row: Codable, Sendable, Hashable {
        public var gridID: UUID
        public var category: HazardCategory
        /// Reported events (not drafts, not voided): 发现.
        public var found: Int
        /// Voided (duplicate, out of scope, false).
        public var voided: Int
        /// Passed verification (any state from `verified` on, voided ones excepted).
        public var verified: Int
        /// Ever whistled (吹哨).
        public var whistled: Int
        /// Closed after a passed check (`closed`/`evaluated`): 解决.
        public var solved: Int
        /// Solved without any overdue stage.
        public var onTime: Int
        /// With at least one overdue stage (escalated).
        public var overdue: Int
        /// With at least one failed check (reopened).
        public var reopened: Int
        /// Evaluated events and the sum of their satisfaction (1…5).
        public var evaluated: Int
        public var satisfactionSum: Int

        public init(gridID: UUID, category: HazardCategory, found: Int = 0, voided: Int = 0, verified: Int = 0, whistled: Int = 0, solved: Int = 0,
                    onTime: Int = 0, overdue: Int = 0, reopened: Int = 0, evaluated: Int = 0, satisfactionSum: Int = 0) {
            self.gridID = gridID
            self.category = category
            self.found = found
            self.voided = voided
            self.verified = verified
            self.whistled = whistled
            self.solved = solved
            self.onTime = onTime
            self.overdue = overdue
            self.reopened = reopened
            self.evaluated = evaluated
            self.satisfactionSum = satisfactionSum
        }
    }

    static func states(_ s: [GridEventState]) -> any SQLExpression { SQLBind.group(s.map(\.rawValue)) }

    /// Figures per (grid, category) for events created in `[from, to)` in `gridIDs` (`nil` = all grids).
    public func figures(gridIDs: [UUID]?, from: Date, to: Date, on db: any Database) async throws -> [Row] {
        if let g = gridIDs, g.isEmpty { return [] }
        let sql = db as! any SQLDatabase
        let verifiedStates: [GridEventState] = [.verified, .filed, .dispatched, .inProgress, .awaitingCheck, .closed, .evaluated]
        let solvedStates: [GridEventState] = [.closed, .evaluated]
        let gridFilter: SQLQueryString = gridIDs.map { "grid_id IN \(SQLBind.group($0)) AND " } ?? ""
        let q: SQLQueryString = """
            SELECT grid_id, category,
              CAST(SUM(CASE WHEN state <> 'void' THEN 1 ELSE 0 END) AS BIGINT) AS found,
              CAST(SUM(CASE WHEN state = 'void' THEN 1 ELSE 0 END) AS BIGINT) AS voided,
              CAST(SUM(CASE WHEN state IN \(Self.states(verifiedStates)) THEN 1 ELSE 0 END) AS BIGINT) AS verified,
              CAST(SUM(CASE WHEN whistled THEN 1 ELSE 0 END) AS BIGINT) AS whistled,
              CAST(SUM(CASE WHEN state IN \(Self.states(solvedStates)) THEN 1 ELSE 0 END) AS BIGINT) AS solved,
              CAST(SUM(CASE WHEN state IN \(Self.states(solvedStates)) AND overdue_count = 0 THEN 1 ELSE 0 END) AS BIGINT) AS on_time,
              CAST(SUM(CASE WHEN overdue_count > 0 THEN 1 ELSE 0 END) AS BIGINT) AS overdue,
              CAST(SUM(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END) AS BIGINT) AS reopened,
              CAST(SUM(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS evaluated,
              CAST(SUM(COALESCE(satisfaction, 0)) AS BIGINT) AS satisfaction_sum
            FROM grid_events
            WHERE \(gridFilter)created_at >= \(bind: from) AND created_at < \(bind: to) AND state <> 'draft'
            GROUP BY grid_id, category
            """
        return try await sql.raw(q).all().compactMap { r in
            guard let c = HazardCategory(rawValue: try r.decode(column: "category", as: String.self)) else { return nil }
            func n(_ k: String) throws -> Int { Int(try r.decode(column: k, as: Int64?.self) ?? 0) }
            return Row(gridID: try r.decode(column: "grid_id", as: UUID.self), category: c, found: try n("found"), voided: try n("voided"),
                       verified: try n("verified"), whistled: try n("whistled"), solved: try n("solved"), onTime: try n("on_time"),
                       overdue: try n("overdue"), reopened: try n("reopened"), evaluated: try n("evaluated"), satisfactionSum: try n("satisfaction_sum"))
        }
    }

    /// An open event as the map draws it.
    public struct Marker: Sendable {
        public var id: UUID
        public var gridID: UUID
        public var buildingID: UUID?
        public var category: HazardCategory
        public var location: GeoPoint?
        public var createdAt: Date
        public var overdueCount: Int
    }

    /// Open events of the grids, newest first, at most `limit` (index `(grid_id, is_open, …)`).
    public func openMarkers(gridIDs: [UUID], limit: Int = 2000, on db: any Database) async throws -> [Marker] {
        guard !gridIDs.isEmpty else { return [] }
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("id", "grid_id", "building_id", "category", "lat_e6", "lon_e6", "created_at", "overdue_count").from("grid_events")
            .where("grid_id", .in, SQLBind.group(gridIDs)).where("is_open", .equal, SQLBind(true))
            .orderBy("created_at", .descending).limit(limit).all()
        return try rows.map { r in
            let lat = try r.decode(column: "lat_e6", as: Int64?.self), lon = try r.decode(column: "lon_e6", as: Int64?.self)
            return Marker(id: try r.decode(column: "id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
                          buildingID: try r.decode(column: "building_id", as: UUID?.self),
                          category: HazardCategory(rawValue: try r.decode(column: "category", as: String.self)) ?? .other,
                          location: lat.flatMap { la in lon.map { GeoPoint(lon: Double($0) / 1_000_000, lat: Double(la) / 1_000_000) } },
                          createdAt: try r.decode(column: "created_at", as: Date.self), overdueCount: try r.decode(column: "overdue_count", as: Int.self))
        }
    }

    // MARK: escalation

    /// An open event whose clock may have run out.
    public struct Candidate: Sendable, Hashable {
        public var id: UUID
        public var gridID: UUID
        public var state: GridEventState
        public var category: HazardCategory
        public var severity: EventSeverity
        public var stageStartedAt: Date
    }

    /// Open events whose stage started at or before `startedBefore`, by id after `after` (keyset
    /// paging of the sweep).
    public func candidates(startedBefore: Date, after: UUID?, limit: Int, on db: any Database) async throws -> [Candidate] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("id", "grid_id", "state", "category", "severity", "stage_started_at").from("grid_events")
            .where("is_open", .equal, SQLBind(true)).where("stage_started_at", .lessThanOrEqual, SQLBind(startedBefore))
        if let after { q = q.where("id", .greaterThan, SQLBind(after)) }
        return try await q.orderBy("id").limit(limit).all().compactMap { r in
            guard let s = GridEventState(rawValue: try r.decode(column: "state", as: String.self)) else { return nil }
            return Candidate(id: try r.decode(column: "id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self), state: s,
                             category: HazardCategory(rawValue: try r.decode(column: "category", as: String.self)) ?? .other,
                             severity: EventSeverity(rawValue: try r.decode(column: "severity", as: String.self)) ?? .normal,
                             stageStartedAt: try r.decode(column: "stage_started_at", as: Date.self))
        }
    }

    /// The key of one occurrence of a stage: `<stage>:<start in ms>`.
    public static func stageKey(_ stage: DeadlineStage, _ start: Date) -> String {
        "\(stage.rawValue):\(Int64((start.timeIntervalSince1970 * 1000).rounded()))"
    }

    /// The stage keys already escalated for the events.
    public func escalatedKeys(eventIDs: [UUID], on db: any Database) async throws -> Set<String> {
        guard !eventIDs.isEmpty else { return [] }
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("event_id", "stage_key").from("event_escalations").where("event_id", .in, SQLBind.group(eventIDs)).all()
        return Set(try rows.map { "\(try $0.decode(column: "event_id", as: UUID.self).uuidString.lowercased())|\(try $0.decode(column: "stage_key", as: String.self))" })
    }

    /// Records an escalation unless this stage occurrence already has one, and recounts the event's
    /// overdue stages. - Returns: whether a row was added.
    public func escalate(eventID: UUID, gridID: UUID, stage: DeadlineStage, stageStartedAt: Date, dueAt: Date, at now: Date, on db: any Database) async throws -> Bool {
        let sql = db as! any SQLDatabase
        let key = Self.stageKey(stage, stageStartedAt)
        let exists = try await sql.select().column("id").from("event_escalations").where("event_id", .equal, SQLBind(eventID))
            .where("stage_key", .equal, SQLBind(key)).first()
        guard exists == nil else { return false }
        try await sql.insert(into: "event_escalations").columns("id", "event_id", "grid_id", "stage", "stage_key", "stage_started_at", "due_at", "escalated_at")
            .values(SQLBind(UUID()), SQLBind(eventID), SQLBind(gridID), SQLBind(stage.rawValue), SQLBind(key), SQLBind(stageStartedAt), SQLBind(dueAt), SQLBind(now))
            .ignoringConflicts(with: ["event_id", "stage_key"]).run()
        try await sql.raw("UPDATE grid_events SET overdue_count = (SELECT COUNT(*) FROM event_escalations WHERE event_id = \(bind: eventID)) WHERE id = \(bind: eventID)").run()
        return true
    }

    /// One escalation as the timeline shows it.
    public struct Escalation: Sendable, Hashable, Codable {
        public var stage: DeadlineStage
        public var stageStartedAt: Date
        public var dueAt: Date
        public var escalatedAt: Date
    }

    public func escalations(eventID: UUID, on db: any Database) async throws -> [Escalation] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("stage", "stage_started_at", "due_at", "escalated_at").from("event_escalations")
            .where("event_id", .equal, SQLBind(eventID)).orderBy("escalated_at").all().compactMap { r in
                guard let s = DeadlineStage(rawValue: try r.decode(column: "stage", as: String.self)) else { return nil }
                return Escalation(stage: s, stageStartedAt: try r.decode(column: "stage_started_at", as: Date.self),
                                  dueAt: try r.decode(column: "due_at", as: Date.self), escalatedAt: try r.decode(column: "escalated_at", as: Date.self))
            }
    }

    /// Ids of open, escalated events in the grids (`nil` = all), oldest stage first: the
    /// supervisor's work list before the current-stage check.
    public func escalatedOpenEventIDs(gridIDs: [UUID]?, limit: Int = 500, on db: any Database) async throws -> [UUID] {
        if let g = gridIDs, g.isEmpty { return [] }
        let sql = db as! any SQLDatabase
        var q = sql.select().column("id").from("grid_events").where("is_open", .equal, SQLBind(true)).where("overdue_count", .greaterThan, SQLBind(0))
        if let g = gridIDs { q = q.where("grid_id", .in, SQLBind.group(g)) }
        return try await q.orderBy("stage_started_at").limit(limit).all().map { try $0.decode(column: "id", as: UUID.self) }
    }

    // MARK: subsidies

    /// Approved (or paid) amounts in fen per person or per grid, one column per period slot.
    public struct TotalRow: Sendable, Hashable {
        /// A claimant id or a grid id.
        public var key: UUID
        /// Amount in fen per slot (month 1…12 of a year, or days of a month), and the count of claims.
        public var slots: [Int]
        public var total: Int
        public var claims: Int
    }

    public enum TotalsBy: String, Sendable { case person, grid }

    /// Sums approved claims decided in each `[bounds[i], bounds[i+1])` slot, grouped by claimant or
    /// grid, in the grids `gridIDs` (`nil` = all). One `SUM(CASE …)` column per slot.
    public func subsidyTotals(by: TotalsBy, bounds: [Date], gridIDs: [UUID]?, claimantID: UUID? = nil, on db: any Database) async throws -> [TotalRow] {
        guard bounds.count >= 2 else { return [] }
        if let g = gridIDs, g.isEmpty { return [] }
        let sql = db as! any SQLDatabase
        let keyColumn = by == .person ? "claimant_id" : "grid_id"
        var q: SQLQueryString = "SELECT \(ident: keyColumn) AS k, COUNT(*) AS n, CAST(SUM(amount_fen) AS BIGINT) AS total"
        for i in 0..<(bounds.count - 1) {
            q += ", CAST(SUM(CASE WHEN decided_at >= \(bind: bounds[i]) AND decided_at < \(bind: bounds[i + 1]) THEN amount_fen ELSE 0 END) AS BIGINT) AS \(ident: "s\(i)")"
        }
        q += " FROM subsidy_claims WHERE state IN \(SQLBind.group([SubsidyState.approved.rawValue, SubsidyState.paid.rawValue]))"
        q += " AND decided_at >= \(bind: bounds[0]) AND decided_at < \(bind: bounds[bounds.count - 1])"
        if let g = gridIDs { q += " AND grid_id IN \(SQLBind.group(g))" }
        if let c = claimantID { q += " AND claimant_id = \(bind: c)" }
        q += " GROUP BY \(ident: keyColumn)"
        return try await sql.raw(q).all().map { r in
            TotalRow(key: try r.decode(column: "k", as: UUID.self),
                     slots: try (0..<(bounds.count - 1)).map { Int(try r.decode(column: "s\($0)", as: Int64?.self) ?? 0) },
                     total: Int(try r.decode(column: "total", as: Int64?.self) ?? 0), claims: Int(try r.decode(column: "n", as: Int64.self)))
        }
    }

    /// A claim as the reviewers' list shows it.
    public struct ClaimListRow: Sendable, Hashable {
        public var claim: SubsidyClaim
        public var gridID: UUID
        public var claimantName: String
        public var eventDescription: String?
        public var eventCategory: HazardCategory?
        public var createdAt: Date
        public var decidedAt: Date?
    }

    /// Claims in the grids (`nil` = all), optionally one state or one claimant, newest first.
    public func claims(gridIDs: [UUID]?, state: SubsidyState?, claimantID: UUID?, limit: Int = 200, on db: any Database) async throws -> [ClaimListRow] {
        if let g = gridIDs, g.isEmpty { return [] }
        let sql = db as! any SQLDatabase
        var q: SQLQueryString = """
            SELECT c.id, c.case_type, c.case_id, c.grid_id, c.claimant_id, c.state, c.reviewer_id, c.amount_fen, c.review_note, c.created_at, c.decided_at,
                   u.display_name, e.description, e.category
            FROM subsidy_claims c JOIN users u ON u.id = c.claimant_id LEFT JOIN grid_events e ON e.id = c.case_id AND c.case_type = 'event'
            WHERE 1 = 1
            """
        if let g = gridIDs { q += " AND c.grid_id IN \(SQLBind.group(g))" }
        if let s = state { q += " AND c.state = \(bind: s.rawValue)" }
        if let c = claimantID { q += " AND c.claimant_id = \(bind: c)" }
        q += " ORDER BY c.created_at DESC LIMIT \(unsafeRaw: String(limit))"
        return try await sql.raw(q).all().map { r in
            let (c, grid) = try GridEventRepository.decodeClaim(r)
            return ClaimListRow(claim: c, gridID: grid, claimantName: try r.decode(column: "display_name", as: String.self),
                                eventDescription: try r.decode(column: "description", as: String?.self),
                                eventCategory: try r.decode(column: "category", as: String?.self).flatMap(HazardCategory.init(rawValue:)),
                                createdAt: try r.decode(column: "created_at", as: Date.self), decidedAt: try r.decode(column: "decided_at", as: Date?.self))
        }
    }
}
