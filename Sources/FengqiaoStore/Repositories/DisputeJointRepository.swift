import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// A joint case's side as listed for reminders (双盯办).
public struct JointReminderRow: Sendable, Equatable {
    public var disputeID: UUID
    public var side: JointSide
    public var state: JointSideState
    public init(disputeID: UUID, side: JointSide, state: JointSideState) {
        self.disputeID = disputeID
        self.side = side
        self.state = state
    }
}

/// One line of a police incident's timeline (notifications, dispatch, arrival, disposition).
public struct IncidentTimelineEntry: Sendable, Equatable, Codable {
    public var seq: Int
    public var at: Date
    public var actorName: String
    public var kind: String
    public var recipientID: UUID?
    public var detail: String?
    public init(seq: Int, at: Date, actorName: String, kind: String, recipientID: UUID?, detail: String?) {
        self.seq = seq
        self.at = at
        self.actorName = actorName
        self.kind = kind
        self.recipientID = recipientID
        self.detail = detail
    }
}

/// Who handles an incident (§4.6): the grid worker notified for first response and the community
/// officer designated for dispatch, and when it was disposed of.
public struct IncidentHandling: Sendable, Equatable {
    public var gridWorkerID: UUID?
    public var gridWorkerName: String?
    public var notifiedAt: Date?
    public var officerID: UUID?
    public var officerName: String?
    public var disposedAt: Date?
    public init(gridWorkerID: UUID? = nil, gridWorkerName: String? = nil, notifiedAt: Date? = nil, officerID: UUID? = nil, officerName: String? = nil, disposedAt: Date? = nil) {
        self.gridWorkerID = gridWorkerID
        self.gridWorkerName = gridWorkerName
        self.notifiedAt = notifiedAt
        self.officerID = officerID
        self.officerName = officerName
        self.disposedAt = disposedAt
    }
}

/// Joint handling, incident handling and the reminder / response-time queries of issue 4,
/// through SQLKit (tables of M0024).
public struct DisputeJointRepository: Sendable {
    public init() {}

    // MARK: Joint cases

    static let jointColumns = [
        "pushed_by", "pushed_at", "police_owner_id", "police_owner_name", "police_due_at", "police_signed_off_at", "police_signed_off_by",
        "centre_owner_id", "centre_owner_name", "centre_due_at", "centre_signed_off_at", "centre_signed_off_by",
    ]

    func values(_ j: JointCase) -> [any SQLExpression] {
        [
            SQLBind(j.pushedBy.rawValue), SQLBind(j.pushedAt), SQLBind(j.police.ownerID), SQLBind(j.police.ownerName), SQLBind(j.police.dueAt),
            SQLBind(j.police.signedOffAt), SQLBind(j.police.signedOffBy), SQLBind(j.governanceCentre.ownerID), SQLBind(j.governanceCentre.ownerName),
            SQLBind(j.governanceCentre.dueAt), SQLBind(j.governanceCentre.signedOffAt), SQLBind(j.governanceCentre.signedOffBy),
        ]
    }

    /// The joint record of a dispute, if it is under joint handling.
    public func joint(_ disputeID: UUID, on db: any Database) async throws -> JointCase? {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.select().columns(Self.jointColumns.map { SQLColumn($0) }).from("dispute_joint")
            .where("dispute_id", .equal, SQLBind(disputeID)).first() else { return nil }
        return try decodeJoint(r)
    }

    func decodeJoint(_ r: any SQLRow) throws -> JointCase {
        func side(_ p: String) throws -> JointSideState {
            JointSideState(
                ownerID: try r.decode(column: "\(p)_owner_id", as: UUID?.self), ownerName: try r.decode(column: "\(p)_owner_name", as: String?.self),
                dueAt: try r.decode(column: "\(p)_due_at", as: Date?.self), signedOffAt: try r.decode(column: "\(p)_signed_off_at", as: Date?.self),
                signedOffBy: try r.decode(column: "\(p)_signed_off_by", as: String?.self))
        }
        return JointCase(
            pushedBy: JointSide(rawValue: try r.decode(column: "pushed_by", as: String.self)) ?? .police, pushedAt: try r.decode(column: "pushed_at", as: Date.self),
            police: try side("police"), governanceCentre: try side("centre"))
    }

    /// Inserts or replaces the joint record (call inside `Store.write`, after `lockDispute`).
    public func save(_ j: JointCase, disputeID: UUID, insert: Bool, on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        if insert {
            try await sql.insert(into: "dispute_joint").columns(["id", "dispute_id"] + Self.jointColumns + ["updated_at"])
                .values([SQLBind(UUID()), SQLBind(disputeID)] + values(j) + [SQLBind(now)]).run()
        } else {
            var q = sql.update("dispute_joint")
            for (c, v) in zip(Self.jointColumns, values(j)) { q = q.set(SQLColumn(c), to: v) }
            try await q.set(SQLColumn("updated_at"), to: SQLBind(now)).where("dispute_id", .equal, SQLBind(disputeID)).run()
        }
    }

    /// Serialises writers of one dispute until the transaction ends: PostgreSQL takes the row
    /// lock (`SELECT … FOR UPDATE`); SQLite needs nothing (`Store.write` holds the write lock).
    public func lockDispute(_ id: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT version FROM disputes WHERE id = \(bind: id) FOR UPDATE").run()
    }

    /// Sides of visible joint cases that are overdue or due before `until` and not signed off,
    /// earliest deadline first (indexed on each side's deadline).
    public func dueSides(until: Date, access: DisputeAccess, limit: Int = 500, on db: any Database) async throws -> [JointReminderRow] {
        let sql = db as! any SQLDatabase
        var out: [JointReminderRow] = []
        for (side, p) in [(JointSide.police, "police"), (.governanceCentre, "centre")] {
            let rows = try await sql.select().column(SQLColumn("dispute_id", table: "j")).columns(Self.jointColumns.map { SQLColumn($0, table: "j") })
                .from(SQLAlias(SQLIdentifier("dispute_joint"), as: SQLIdentifier("j")))
                .join(SQLAlias(SQLIdentifier("disputes"), as: SQLIdentifier("d")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "d"), .equal, SQLColumn("dispute_id", table: "j"))
                .where(SQLColumn("\(p)_due_at", table: "j"), .lessThanOrEqual, SQLBind(until))
                .where(SQLColumn("\(p)_signed_off_at", table: "j"), .is, SQLLiteral.null)
                .where(SQLColumn("state", table: "d"), .in, SQLBind.group(DisputeState.allCases.filter(\.isOpen).map(\.rawValue)))
                .where(DisputeRepository.accessCondition(access, table: "d"))
                .orderBy(SQLColumn("\(p)_due_at", table: "j")).limit(limit).all()
            for r in rows {
                let j = try decodeJoint(r)
                out.append(JointReminderRow(disputeID: try r.decode(column: "dispute_id", as: UUID.self), side: side, state: j[side]))
            }
        }
        return out.sorted { ($0.state.dueAt ?? .distantPast) < ($1.state.dueAt ?? .distantPast) }
    }

    /// Visible disputes whose agreement took effect on or after `effectiveFrom` and that are
    /// still `agreement_effective` (judicial confirmation not yet applied for), oldest first —
    /// the cases inside or near the Art. 33 window.
    public func awaitingConfirmation(effectiveFrom: CalendarDate, access: DisputeAccess, limit: Int = 500, on db: any Database) async throws -> [(UUID, CalendarDate, String)] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("id", "effective_on", "summary").from("disputes")
            .where("state", .equal, SQLBind(DisputeState.agreementEffective.rawValue))
            .where("effective_on", .greaterThanOrEqual, SQLBind(effectiveFrom.description))
            .where(DisputeRepository.accessCondition(access, table: "disputes"))
            .orderBy("effective_on").limit(limit).all()
        return try rows.compactMap { r in
            guard let d = CalendarDate(iso: try r.decode(column: "effective_on", as: String.self)) else { return nil }
            return (try r.decode(column: "id", as: UUID.self), d, try r.decode(column: "summary", as: String.self))
        }
    }

    // MARK: Incidents

    /// Accounts of `role` scoped exactly to `territoryID` and not disabled, by username.
    public func accounts(role: Role, territoryID: UUID, on db: any Database) async throws -> [(UUID, String)] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("id", "display_name").from("users")
            .where("role", .equal, SQLBind(role.rawValue)).where("scope_territory_id", .equal, SQLBind(territoryID))
            .where("disabled", .equal, SQLBind(false)).orderBy("username").limit(20).all().map {
                (try $0.decode(column: "id", as: UUID.self), try $0.decode(column: "display_name", as: String.self))
            }
    }

    public func appendIncidentTimeline(_ incidentID: UUID, at: Date, actorID: UUID?, actorName: String, kind: String, recipientID: UUID? = nil, detail: String?, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let last = try await sql.select().column(SQLFunction("MAX", args: SQLColumn("seq")), as: "m").from("incident_timeline")
            .where("incident_id", .equal, SQLBind(incidentID)).first()?.decode(column: "m", as: Int?.self) ?? 0
        try await sql.insert(into: "incident_timeline").columns("id", "incident_id", "seq", "at", "actor_id", "actor_name", "kind", "recipient_id", "detail")
            .values(SQLBind(UUID()), SQLBind(incidentID), SQLBind(last + 1), SQLBind(at), SQLBind(actorID), SQLBind(actorName), SQLBind(kind),
                    SQLBind(recipientID), SQLBind(detail)).run()
    }

    public func incidentTimeline(_ incidentID: UUID, on db: any Database) async throws -> [IncidentTimelineEntry] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("seq", "at", "actor_name", "kind", "recipient_id", "detail").from("incident_timeline")
            .where("incident_id", .equal, SQLBind(incidentID)).orderBy("seq").all().map { r in
                IncidentTimelineEntry(
                    seq: try r.decode(column: "seq", as: Int.self), at: try r.decode(column: "at", as: Date.self),
                    actorName: try r.decode(column: "actor_name", as: String.self), kind: try r.decode(column: "kind", as: String.self),
                    recipientID: try r.decode(column: "recipient_id", as: UUID?.self), detail: try r.decode(column: "detail", as: String?.self))
            }
    }

    public func handling(_ incidentID: UUID, on db: any Database) async throws -> IncidentHandling? {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.select().columns("grid_worker_id", "grid_worker_name", "notified_at", "officer_id", "officer_name", "disposed_at")
            .from("incident_handling").where("incident_id", .equal, SQLBind(incidentID)).first() else { return nil }
        return IncidentHandling(
            gridWorkerID: try r.decode(column: "grid_worker_id", as: UUID?.self), gridWorkerName: try r.decode(column: "grid_worker_name", as: String?.self),
            notifiedAt: try r.decode(column: "notified_at", as: Date?.self), officerID: try r.decode(column: "officer_id", as: UUID?.self),
            officerName: try r.decode(column: "officer_name", as: String?.self), disposedAt: try r.decode(column: "disposed_at", as: Date?.self))
    }

    public func saveHandling(_ h: IncidentHandling, incidentID: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.delete(from: "incident_handling").where("incident_id", .equal, SQLBind(incidentID)).run()
        try await sql.insert(into: "incident_handling").columns("id", "incident_id", "grid_worker_id", "grid_worker_name", "notified_at", "officer_id", "officer_name", "disposed_at")
            .values(SQLBind(UUID()), SQLBind(incidentID), SQLBind(h.gridWorkerID), SQLBind(h.gridWorkerName), SQLBind(h.notifiedAt), SQLBind(h.officerID),
                    SQLBind(h.officerName), SQLBind(h.disposedAt)).run()
    }

    /// Minutes from receipt to arrival of the visible incidents received in `[from, to)`, by grid,
    /// with the number received per grid (indexed on `(grid_id, reported_at)`).
    public func arrivalMinutes(from: Date, to: Date, visible: VisibleTerritory, on db: any Database) async throws -> [UUID: (received: Int, minutes: [Double])] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("grid_id", "reported_at", "arrived_at").from("police_incidents")
            .where("reported_at", .greaterThanOrEqual, SQLBind(from)).where("reported_at", .lessThan, SQLBind(to))
            .where("category", .notEqual, SQLBind(IncidentCategory.invalid.rawValue))
        if let g = visible.gridIDs { q = q.where("grid_id", .in, SQLBind.group(Array(g))) }
        var out: [UUID: (received: Int, minutes: [Double])] = [:]
        for r in try await q.all() {
            let g = try r.decode(column: "grid_id", as: UUID.self)
            var e = out[g] ?? (0, [])
            e.received += 1
            if let a = try r.decode(column: "arrived_at", as: Date?.self) {
                e.minutes.append(max(0, a.timeIntervalSince(try r.decode(column: "reported_at", as: Date.self))) / 60)
            }
            out[g] = e
        }
        return out
    }
}
