import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// A dispute as stored (domain spec §4.1). `version` is the optimistic-concurrency counter.
public struct DisputeRecord: Sendable, Equatable {
    public var id: UUID
    public var gridID: UUID
    public var communityID: UUID
    public var addressID: UUID?
    public var category: DisputeCategory
    public var source: DisputeSource
    public var state: DisputeState
    public var risk: RiskGrade
    public var riskFlags: Set<RiskTrigger>
    public var civilToCriminalRisk: Bool
    public var level: DisputeLevel
    public var levelSince: Date
    public var levelDueAt: Date?
    /// The level at which the dispute was settled (agreement took effect), for the ladder statistics.
    public var settledLevel: DisputeLevel?
    public var summary: String
    public var incidentID: UUID?
    public var stopReason: String?
    public var effectiveOn: CalendarDate?
    public var version: Int
    public var registeredAt: Date
    public var closedAt: Date?

    public init(
        id: UUID, gridID: UUID, communityID: UUID, addressID: UUID?, category: DisputeCategory, source: DisputeSource, state: DisputeState,
        risk: RiskGrade, riskFlags: Set<RiskTrigger>, civilToCriminalRisk: Bool, level: DisputeLevel, levelSince: Date, levelDueAt: Date?,
        settledLevel: DisputeLevel? = nil, summary: String, incidentID: UUID?, stopReason: String? = nil, effectiveOn: CalendarDate? = nil,
        version: Int = 1, registeredAt: Date, closedAt: Date? = nil
    ) {
        self.id = id
        self.gridID = gridID
        self.communityID = communityID
        self.addressID = addressID
        self.category = category
        self.source = source
        self.state = state
        self.risk = risk
        self.riskFlags = riskFlags
        self.civilToCriminalRisk = civilToCriminalRisk
        self.level = level
        self.levelSince = levelSince
        self.levelDueAt = levelDueAt
        self.settledLevel = settledLevel
        self.summary = summary
        self.incidentID = incidentID
        self.stopReason = stopReason
        self.effectiveOn = effectiveOn
        self.version = version
        self.registeredAt = registeredAt
        self.closedAt = closedAt
    }
}

/// A party to a dispute; `idNumber`/`phone` are clear here and sealed in the database.
public struct DisputeParty: Sendable, Equatable {
    public enum Role: String, Codable, Sendable, CaseIterable { case applicant, respondent, other }
    public var id: UUID
    public var seq: Int
    public var role: Role
    public var name: String
    public var residentID: UUID?
    public var idNumber: String?
    public var phone: PhoneNumber?
    public init(id: UUID, seq: Int, role: Role, name: String, residentID: UUID?, idNumber: String?, phone: PhoneNumber?) {
        self.id = id
        self.seq = seq
        self.role = role
        self.name = name
        self.residentID = residentID
        self.idNumber = idNumber
        self.phone = phone
    }
}

public struct DisputeMediator: Sendable, Equatable, Codable {
    public var accountID: UUID
    public var name: String
    public var assignedAt: Date
    public init(accountID: UUID, name: String, assignedAt: Date) {
        self.accountID = accountID
        self.name = name
        self.assignedAt = assignedAt
    }
}

/// A mediation session (调解工作记录, Art. 27).
public struct DisputeSession: Sendable, Equatable, Codable {
    public var id: UUID
    public var heldOn: CalendarDate
    public var place: String
    public var attendees: [String]
    public var minutes: String
    public var recordedBy: String
    public init(id: UUID, heldOn: CalendarDate, place: String, attendees: [String], minutes: String, recordedBy: String) {
        self.id = id
        self.heldOn = heldOn
        self.place = place
        self.attendees = attendees
        self.minutes = minutes
        self.recordedBy = recordedBy
    }
}

public struct DisputeAgreementRecord: Sendable, Equatable {
    public var id: UUID
    public var agreement: MediationAgreement
    public var effectiveOn: CalendarDate?
    public init(id: UUID, agreement: MediationAgreement, effectiveOn: CalendarDate?) {
        self.id = id
        self.agreement = agreement
        self.effectiveOn = effectiveOn
    }
}

/// One line of a case's timeline: what happened, who did it, when.
public struct DisputeTimelineEntry: Sendable, Equatable, Codable {
    public var seq: Int
    public var at: Date
    public var actorID: UUID?
    public var actorName: String
    public var kind: String
    public var stateAfter: DisputeState
    public var detail: String?
    public init(seq: Int, at: Date, actorID: UUID?, actorName: String, kind: String, stateAfter: DisputeState, detail: String?) {
        self.seq = seq
        self.at = at
        self.actorID = actorID
        self.actorName = actorName
        self.kind = kind
        self.stateAfter = stateAfter
        self.detail = detail
    }
}

/// Who may see which disputes: the caller's territory, and for mediators only the cases they
/// are assigned to (issue 4 "Access").
public struct DisputeAccess: Sendable {
    public var visible: VisibleTerritory
    public var assignedTo: UUID?
    public init(visible: VisibleTerritory, assignedTo: UUID? = nil) {
        self.visible = visible
        self.assignedTo = assignedTo
    }
}

/// Reads and writes disputes through SQLKit. Party ID numbers and phones are sealed with the
/// `FieldCipher` (blind index for exact search); reads are filtered by `DisputeAccess`.
public struct DisputeRepository: Sendable {
    let cipher: FieldCipher
    public init(cipher: FieldCipher) { self.cipher = cipher }

    static let columns = [
        "id", "grid_id", "community_id", "address_id", "category", "source", "state", "risk_grade", "risk_flags", "civil_to_criminal_risk",
        "level", "level_since", "level_due_at", "settled_level", "summary", "incident_id", "stop_reason", "effective_on", "version",
        "registered_at", "closed_at",
    ]

    func values(_ d: DisputeRecord) -> [any SQLExpression] {
        [
            SQLBind(d.id), SQLBind(d.gridID), SQLBind(d.communityID), SQLBind(d.addressID), SQLBind(d.category.rawValue), SQLBind(d.source.rawValue),
            SQLBind(d.state.rawValue), SQLBind(d.risk.rawValue), SQLBind(d.riskFlags.map(\.rawValue).sorted().joined(separator: ",")),
            SQLBind(d.civilToCriminalRisk), SQLBind(d.level.rawValue), SQLBind(d.levelSince), SQLBind(d.levelDueAt), SQLBind(d.settledLevel?.rawValue),
            SQLBind(d.summary), SQLBind(d.incidentID), SQLBind(d.stopReason), SQLBind(d.effectiveOn?.description), SQLBind(d.version),
            SQLBind(d.registeredAt), SQLBind(d.closedAt),
        ]
    }

    /// Inserts a dispute with its parties (call inside `Store.write`).
    public func insert(_ d: DisputeRecord, parties: [DisputeParty], on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "disputes").columns(Self.columns + ["created_at", "updated_at"]).values(values(d) + [SQLBind(now), SQLBind(now)]).run()
        for p in parties {
            try await sql.insert(into: "dispute_parties")
                .columns("id", "dispute_id", "seq", "role", "name", "resident_id", "id_number_enc", "id_number_idx", "phone_enc", "phone_idx")
                .values(
                    SQLBind(p.id), SQLBind(d.id), SQLBind(p.seq), SQLBind(p.role.rawValue), SQLBind(p.name), SQLBind(p.residentID),
                    SQLBind(p.idNumber.map { cipher.seal($0) }), SQLBind(p.idNumber.map { cipher.blindIndex(Self.partyKey(idNumber: $0)) }),
                    SQLBind(p.phone.map { cipher.seal($0.e164) }), SQLBind(p.phone.map { cipher.blindIndex(ActualResident.indexKey(phone: $0)) })
                ).run()
        }
    }

    /// The blind-index key of a party's normalised ID number (the registry's, so one person has
    /// one index value across residents, dispute parties and incidents).
    public static func partyKey(idNumber: String) -> String { ActualResident.indexKey(idNumber: idNumber) }

    /// Saves a changed dispute if nobody changed it since `expectedVersion` was read; the stored
    /// version becomes `expectedVersion + 1`.
    /// - Throws: `.conflict("version", "the case changed …")` when another write came first.
    @discardableResult
    public func update(_ d: DisputeRecord, expectedVersion: Int, on db: any Database, now: Date) async throws -> DisputeRecord {
        let sql = db as! any SQLDatabase
        var next = d
        next.version = expectedVersion + 1
        var q = sql.update("disputes")
        for (c, v) in zip(Self.columns, values(next)) where c != "id" { q = q.set(SQLColumn(c), to: v) }
        let rows = try await q.set(SQLColumn("updated_at"), to: SQLBind(now))
            .where("id", .equal, SQLBind(d.id)).where("version", .equal, SQLBind(expectedVersion))
            .returning("id").all()
        if rows.isEmpty {
            throw DomainError.conflict(field: "version", reason: "the case changed since version \(expectedVersion); reload it and try again")
        }
        return next
    }

    /// The dispute access filter (territory, or a mediator's assigned cases), on `disputes` or on
    /// an alias of it in a join (`table`).
    static func accessCondition(_ a: DisputeAccess, table: String? = nil) -> any SQLExpression {
        func column(_ c: String) -> SQLColumn { table.map { SQLColumn(c, table: $0) } ?? SQLColumn(c) }
        var parts: [any SQLExpression] = []
        if a.visible.level >= .community, let communities = a.visible.communityIDs, !communities.isEmpty {
            // Whole communities (community, station scope): `community_id` reads one index range
            // per community in registration order (M0025), instead of a list of every grid.
            parts.append(SQLBinaryExpression(column("community_id"), .in, SQLBind.group(Array(communities))))
        } else if let grids = a.visible.gridIDs { parts.append(SQLBinaryExpression(column("grid_id"), .in, SQLBind.group(Array(grids)))) }
        if let m = a.assignedTo {
            // id IN (SELECT dispute_id FROM dispute_mediators WHERE account_id = ?)
            let sub = SQLList([SQLRaw("SELECT dispute_id FROM dispute_mediators WHERE account_id ="), SQLBind(m)], separator: SQLRaw(" "))
            parts.append(SQLBinaryExpression(column("id"), .in, SQLGroupExpression(sub)))
        }
        guard var e = parts.first else { return SQLRaw("1 = 1") }
        for p in parts.dropFirst() { e = SQLBinaryExpression(e, .and, p) }
        return e
    }

    /// The dispute, if it exists and the caller may see it.
    /// - Throws: `.notFound("dispute")` otherwise (out of scope answers like absent).
    public func find(_ id: UUID, access: DisputeAccess, on db: any Database) async throws -> DisputeRecord {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("disputes")
            .where("id", .equal, SQLBind(id)).where(Self.accessCondition(access)).first()
        else { throw DomainError.notFound(kind: "dispute") }
        return try decode(r)
    }

    /// The dispute by id regardless of access (inside a write that already checked access).
    public func find(_ id: UUID, on db: any Database) async throws -> DisputeRecord? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("disputes").where("id", .equal, SQLBind(id)).first().map(decode)
    }

    /// Visible disputes, newest first, optionally in one state, with the total before paging.
    public func list(access: DisputeAccess, state: DisputeState? = nil, limit: Int = 100, offset: Int = 0, on db: any Database) async throws -> ([DisputeRecord], Int) {
        let sql = db as! any SQLDatabase
        var count = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("disputes").where(Self.accessCondition(access))
        var q = sql.select().columns(Self.columns.map { SQLColumn($0) }).from("disputes").where(Self.accessCondition(access))
        if let s = state {
            count = count.where("state", .equal, SQLBind(s.rawValue))
            q = q.where("state", .equal, SQLBind(s.rawValue))
        }
        let total = try await count.first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await q.orderBy("registered_at", .descending).orderBy("id", .descending).limit(limit).offset(offset).all()
        return (try rows.map(decode), total)
    }

    /// Open disputes whose level deadline has passed, in deadline order (indexed on `level_due_at`).
    public func dueForEscalation(now: Date, access: DisputeAccess, limit: Int = 500, on db: any Database) async throws -> [DisputeRecord] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("disputes")
            .where("level_due_at", .lessThanOrEqual, SQLBind(now))
            .where("state", .in, SQLBind.group(DisputeState.allCases.filter(\.escalates).map(\.rawValue)))
            .where(Self.accessCondition(access)).orderBy("level_due_at").limit(limit).all()
        return try rows.map(decode)
    }

    func decode(_ r: any SQLRow) throws -> DisputeRecord {
        func e<E: RawRepresentable>(_ c: String, _ t: E.Type) throws -> E where E.RawValue == String {
            let s = try r.decode(column: c, as: String.self)
            guard let v = E(rawValue: s) else { throw DomainError.invalidField(field: c, reason: "stored value \"\(s)\" is unknown") }
            return v
        }
        let flags = try r.decode(column: "risk_flags", as: String.self).split(separator: ",").compactMap { RiskTrigger(rawValue: String($0)) }
        return DisputeRecord(
            id: try r.decode(column: "id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
            communityID: try r.decode(column: "community_id", as: UUID.self), addressID: try r.decode(column: "address_id", as: UUID?.self),
            category: try e("category", DisputeCategory.self), source: try e("source", DisputeSource.self), state: try e("state", DisputeState.self),
            risk: try e("risk_grade", RiskGrade.self), riskFlags: Set(flags), civilToCriminalRisk: try r.decode(column: "civil_to_criminal_risk", as: Bool.self),
            level: try e("level", DisputeLevel.self), levelSince: try r.decode(column: "level_since", as: Date.self),
            levelDueAt: try r.decode(column: "level_due_at", as: Date?.self),
            settledLevel: try r.decode(column: "settled_level", as: String?.self).flatMap(DisputeLevel.init(rawValue:)),
            summary: try r.decode(column: "summary", as: String.self), incidentID: try r.decode(column: "incident_id", as: UUID?.self),
            stopReason: try r.decode(column: "stop_reason", as: String?.self),
            effectiveOn: try r.decode(column: "effective_on", as: String?.self).flatMap(CalendarDate.init(iso:)),
            version: try r.decode(column: "version", as: Int.self), registeredAt: try r.decode(column: "registered_at", as: Date.self),
            closedAt: try r.decode(column: "closed_at", as: Date?.self))
    }

    // MARK: Parties, mediators, sessions, agreement, timeline

    /// The parties in order, ID numbers and phones opened.
    public func parties(_ disputeID: UUID, on db: any Database) async throws -> [DisputeParty] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("id", "seq", "role", "name", "resident_id", "id_number_enc", "phone_enc").from("dispute_parties")
            .where("dispute_id", .equal, SQLBind(disputeID)).orderBy("seq").all()
        return try rows.map { r in
            DisputeParty(
                id: try r.decode(column: "id", as: UUID.self), seq: try r.decode(column: "seq", as: Int.self),
                role: DisputeParty.Role(rawValue: try r.decode(column: "role", as: String.self)) ?? .other,
                name: try r.decode(column: "name", as: String.self), residentID: try r.decode(column: "resident_id", as: UUID?.self),
                idNumber: try r.decode(column: "id_number_enc", as: String?.self).map { try cipher.open($0) },
                phone: try r.decode(column: "phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) })
        }
    }

    public func addMediators(_ list: [DisputeMediator], to disputeID: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        for m in list {
            try await sql.insert(into: "dispute_mediators").columns("id", "dispute_id", "account_id", "name", "assigned_at")
                .values(SQLBind(UUID()), SQLBind(disputeID), SQLBind(m.accountID), SQLBind(m.name), SQLBind(m.assignedAt)).run()
        }
    }

    public func mediators(_ disputeID: UUID, on db: any Database) async throws -> [DisputeMediator] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("account_id", "name", "assigned_at").from("dispute_mediators")
            .where("dispute_id", .equal, SQLBind(disputeID)).orderBy("assigned_at").all().map { r in
                DisputeMediator(accountID: try r.decode(column: "account_id", as: UUID.self), name: try r.decode(column: "name", as: String.self),
                                assignedAt: try r.decode(column: "assigned_at", as: Date.self))
            }
    }

    public func addSession(_ s: DisputeSession, to disputeID: UUID, on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        let attendees = String(decoding: try JSONEncoder().encode(s.attendees), as: UTF8.self)
        try await sql.insert(into: "dispute_sessions").columns("id", "dispute_id", "held_on", "place", "attendees", "minutes", "recorded_by", "created_at")
            .values(SQLBind(s.id), SQLBind(disputeID), SQLBind(s.heldOn.description), SQLBind(s.place), SQLBind(attendees), SQLBind(s.minutes),
                    SQLBind(s.recordedBy), SQLBind(now)).run()
    }

    public func sessions(_ disputeID: UUID, on db: any Database) async throws -> [DisputeSession] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("id", "held_on", "place", "attendees", "minutes", "recorded_by").from("dispute_sessions")
            .where("dispute_id", .equal, SQLBind(disputeID)).orderBy("held_on").orderBy("created_at").all().map { r in
                DisputeSession(
                    id: try r.decode(column: "id", as: UUID.self), heldOn: CalendarDate(iso: try r.decode(column: "held_on", as: String.self))!,
                    place: try r.decode(column: "place", as: String.self),
                    attendees: try JSONDecoder().decode([String].self, from: Data(try r.decode(column: "attendees", as: String.self).utf8)),
                    minutes: try r.decode(column: "minutes", as: String.self), recordedBy: try r.decode(column: "recorded_by", as: String.self))
            }
    }

    /// Stores the case's agreement (one per case; a new draft replaces the previous one).
    public func saveAgreement(_ a: DisputeAgreementRecord, disputeID: UUID, on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        let body = String(decoding: try JSONEncoder().encode(a.agreement), as: UTF8.self)
        try await sql.delete(from: "dispute_agreements").where("dispute_id", .equal, SQLBind(disputeID)).run()
        try await sql.insert(into: "dispute_agreements").columns("id", "dispute_id", "body", "effective_on", "created_at", "updated_at")
            .values(SQLBind(a.id), SQLBind(disputeID), SQLBind(body), SQLBind(a.effectiveOn?.description), SQLBind(now), SQLBind(now)).run()
    }

    public func agreement(_ disputeID: UUID, on db: any Database) async throws -> DisputeAgreementRecord? {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.select().columns("id", "body", "effective_on").from("dispute_agreements")
            .where("dispute_id", .equal, SQLBind(disputeID)).first() else { return nil }
        return DisputeAgreementRecord(
            id: try r.decode(column: "id", as: UUID.self),
            agreement: try JSONDecoder().decode(MediationAgreement.self, from: Data(try r.decode(column: "body", as: String.self).utf8)),
            effectiveOn: try r.decode(column: "effective_on", as: String?.self).flatMap(CalendarDate.init(iso:)))
    }

    /// Appends a timeline line (call inside the write that made the change).
    public func appendTimeline(_ disputeID: UUID, at: Date, actorID: UUID?, actorName: String, kind: String, stateAfter: DisputeState, detail: String?, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let last = try await sql.select().column(SQLFunction("MAX", args: SQLColumn("seq")), as: "m").from("dispute_timeline")
            .where("dispute_id", .equal, SQLBind(disputeID)).first()?.decode(column: "m", as: Int?.self) ?? 0
        try await sql.insert(into: "dispute_timeline").columns("id", "dispute_id", "seq", "at", "actor_id", "actor_name", "kind", "state_after", "detail")
            .values(SQLBind(UUID()), SQLBind(disputeID), SQLBind(last + 1), SQLBind(at), SQLBind(actorID), SQLBind(actorName), SQLBind(kind),
                    SQLBind(stateAfter.rawValue), SQLBind(detail)).run()
    }

    public func timeline(_ disputeID: UUID, on db: any Database) async throws -> [DisputeTimelineEntry] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("seq", "at", "actor_id", "actor_name", "kind", "state_after", "detail").from("dispute_timeline")
            .where("dispute_id", .equal, SQLBind(disputeID)).orderBy("seq").all().map { r in
                DisputeTimelineEntry(
                    seq: try r.decode(column: "seq", as: Int.self), at: try r.decode(column: "at", as: Date.self),
                    actorID: try r.decode(column: "actor_id", as: UUID?.self), actorName: try r.decode(column: "actor_name", as: String.self),
                    kind: try r.decode(column: "kind", as: String.self),
                    stateAfter: DisputeState(rawValue: try r.decode(column: "state_after", as: String.self)) ?? .registered,
                    detail: try r.decode(column: "detail", as: String?.self))
            }
    }
}
