import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// A police incident as stored (domain spec §3.7, §4.6). The caller phone and party ID number
/// are clear here and sealed in the database; their blind indexes drive repeat detection.
public struct IncidentRecord: Sendable, Equatable {
    public var id: UUID
    public var gridID: UUID
    public var communityID: UUID
    public var category: IncidentCategory
    public var priority: IncidentPriority
    public var state: IncidentState
    public var addressID: UUID?
    public var location: GeoPoint?
    public var callerName: String?
    public var callerPhone: PhoneNumber?
    public var partyIDNumber: String?
    public var summary: String
    public var reportedAt: Date
    public var dispatchedAt: Date?
    public var arrivedAt: Date?
    public var isRepeat: Bool
    public var repeatOf: UUID?
    public var duplicateOf: UUID?
    public var disputeID: UUID?
    public var disposition: IncidentEvent?

    public init(
        id: UUID, gridID: UUID, communityID: UUID, category: IncidentCategory, priority: IncidentPriority, state: IncidentState = .received,
        addressID: UUID?, location: GeoPoint?, callerName: String?, callerPhone: PhoneNumber?, partyIDNumber: String?, summary: String,
        reportedAt: Date, dispatchedAt: Date? = nil, arrivedAt: Date? = nil, isRepeat: Bool = false, repeatOf: UUID? = nil,
        duplicateOf: UUID? = nil, disputeID: UUID? = nil, disposition: IncidentEvent? = nil
    ) {
        self.id = id
        self.gridID = gridID
        self.communityID = communityID
        self.category = category
        self.priority = priority
        self.state = state
        self.addressID = addressID
        self.location = location
        self.callerName = callerName
        self.callerPhone = callerPhone
        self.partyIDNumber = partyIDNumber
        self.summary = summary
        self.reportedAt = reportedAt
        self.dispatchedAt = dispatchedAt
        self.arrivedAt = arrivedAt
        self.isRepeat = isRepeat
        self.repeatOf = repeatOf
        self.duplicateOf = duplicateOf
        self.disputeID = disputeID
        self.disposition = disposition
    }
}

/// Reads and writes police incidents; repeat detection by index lookups only.
public struct IncidentRepository: Sendable {
    let cipher: FieldCipher
    public init(cipher: FieldCipher) { self.cipher = cipher }

    static let columns = [
        "id", "grid_id", "community_id", "category", "priority", "state", "address_id", "lon", "lat", "caller_name", "caller_phone_enc",
        "caller_phone_idx", "party_id_number_enc", "party_idx", "summary", "reported_at", "dispatched_at", "arrived_at", "is_repeat",
        "repeat_of", "duplicate_of", "dispute_id", "disposition",
    ]

    public func phoneIndex(_ p: PhoneNumber) -> String { cipher.blindIndex(ActualResident.indexKey(phone: p)) }
    public func partyIndex(_ idNumber: String) -> String { cipher.blindIndex(DisputeRepository.partyKey(idNumber: idNumber)) }

    /// The comparison keys of an incident (blind indexes, never clear values).
    public func keys(_ i: IncidentRecord) -> IncidentKeys {
        IncidentKeys(
            id: i.id, category: i.category, addressID: i.addressID, partyIndex: i.partyIDNumber.map(partyIndex),
            callerPhoneIndex: i.callerPhone.map(phoneIndex), reportedAt: i.reportedAt, location: i.location, repeatOf: i.repeatOf,
            duplicateOf: i.duplicateOf)
    }

    func values(_ i: IncidentRecord) -> [any SQLExpression] {
        [
            SQLBind(i.id), SQLBind(i.gridID), SQLBind(i.communityID), SQLBind(i.category.rawValue), SQLBind(i.priority.rawValue), SQLBind(i.state.rawValue),
            SQLBind(i.addressID), SQLBind(i.location?.lon), SQLBind(i.location?.lat), SQLBind(i.callerName),
            SQLBind(i.callerPhone.map { cipher.seal($0.e164) }), SQLBind(i.callerPhone.map(phoneIndex)),
            SQLBind(i.partyIDNumber.map { cipher.seal($0) }), SQLBind(i.partyIDNumber.map(partyIndex)), SQLBind(i.summary), SQLBind(i.reportedAt),
            SQLBind(i.dispatchedAt), SQLBind(i.arrivedAt), SQLBind(i.isRepeat), SQLBind(i.repeatOf), SQLBind(i.duplicateOf), SQLBind(i.disputeID),
            SQLBind(i.disposition?.rawValue),
        ]
    }

    public func insert(_ i: IncidentRecord, on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "police_incidents").columns(Self.columns + ["created_at", "updated_at"]).values(values(i) + [SQLBind(now), SQLBind(now)]).run()
    }

    public func update(_ i: IncidentRecord, on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        var q = sql.update("police_incidents")
        for (c, v) in zip(Self.columns, values(i)) where c != "id" { q = q.set(SQLColumn(c), to: v) }
        try await q.set(SQLColumn("updated_at"), to: SQLBind(now)).where("id", .equal, SQLBind(i.id)).run()
    }

    /// The incident if it lies in a visible grid. - Throws: `.notFound("incident")`.
    public func find(_ id: UUID, visible: VisibleTerritory, on db: any Database) async throws -> IncidentRecord {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns(Self.columns.map { SQLColumn($0) }).from("police_incidents").where("id", .equal, SQLBind(id))
        if let g = visible.gridIDs { q = q.where("grid_id", .in, SQLBind.group(Array(g))) }
        guard let r = try await q.first() else { throw DomainError.notFound(kind: "incident") }
        return try decode(r)
    }

    /// Incidents in the visible grids, newest first (`(grid_id, reported_at)` /
    /// `(community_id, reported_at)` indexes), with the total before paging.
    public func list(visible: VisibleTerritory, limit: Int, offset: Int, on db: any Database) async throws -> ([IncidentRecord], Int) {
        let sql = db as! any SQLDatabase
        if let g = visible.gridIDs, g.isEmpty { return ([], 0) }
        func filtered<B: SQLPredicateBuilder>(_ b: B) -> B {
            if let g = visible.gridIDs { _ = b.where("grid_id", .in, SQLBind.group(Array(g))) }
            return b
        }
        let total = try await filtered(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("police_incidents"))
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await filtered(sql.select().columns(Self.columns.map { SQLColumn($0) }).from("police_incidents"))
            .orderBy("reported_at", .descending).orderBy("id", .descending).limit(limit).offset(offset).all()
        return (try rows.map(decode), total)
    }

    /// Incidents of a dispute, oldest first.
    public func forDispute(_ disputeID: UUID, on db: any Database) async throws -> [IncidentRecord] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("police_incidents")
            .where("dispute_id", .equal, SQLBind(disputeID)).orderBy("reported_at").all().map(decode)
    }

    /// Earlier incidents that may make `k` a repeat or a duplicate: the same category and, within
    /// the window, the same address, party or caller phone (one indexed range read per key), plus
    /// the same category within the duplicate time (`(category, reported_at)` index). The number of
    /// rows read depends on the matches in the window, not on the incidents stored.
    public func candidates(for k: IncidentKeys, policy: RepeatPolicy, on db: any Database) async throws -> [IncidentKeys] {
        let sql = db as! any SQLDatabase
        let from = k.reportedAt.addingTimeInterval(-policy.window)
        var found: [UUID: IncidentKeys] = [:]
        func read(_ column: String?, _ value: (any Encodable & Sendable)?, since: Date, limit: Int) async throws {
            var q = sql.select().columns("id", "category", "address_id", "party_idx", "caller_phone_idx", "reported_at", "lon", "lat", "repeat_of", "duplicate_of")
                .from("police_incidents").where("category", .equal, SQLBind(k.category.rawValue))
            if let column, let value { q = q.where(column, .equal, SQLBind(value)) }
            let rows = try await q.where("reported_at", .greaterThanOrEqual, SQLBind(since)).where("reported_at", .lessThanOrEqual, SQLBind(k.reportedAt))
                .where("id", .notEqual, SQLBind(k.id)).orderBy("reported_at").limit(limit).all()
            for r in rows {
                let lon = try r.decode(column: "lon", as: Double?.self), lat = try r.decode(column: "lat", as: Double?.self)
                let id = try r.decode(column: "id", as: UUID.self)
                found[id] = IncidentKeys(
                    id: id, category: k.category, addressID: try r.decode(column: "address_id", as: UUID?.self),
                    partyIndex: try r.decode(column: "party_idx", as: String?.self), callerPhoneIndex: try r.decode(column: "caller_phone_idx", as: String?.self),
                    reportedAt: try r.decode(column: "reported_at", as: Date.self), location: lon.flatMap { lo in lat.map { GeoPoint(lon: lo, lat: $0) } },
                    repeatOf: try r.decode(column: "repeat_of", as: UUID?.self), duplicateOf: try r.decode(column: "duplicate_of", as: UUID?.self))
            }
        }
        if let a = k.addressID { try await read("address_id", a, since: from, limit: 1000) }
        if let p = k.partyIndex { try await read("party_idx", p, since: from, limit: 1000) }
        if let c = k.callerPhoneIndex { try await read("caller_phone_idx", c, since: from, limit: 1000) }
        try await read(nil, nil, since: k.reportedAt.addingTimeInterval(-TimeInterval(policy.duplicateSeconds)), limit: 200)
        return Array(found.values)
    }

    /// Serialises incidents sharing a repeat key until the transaction ends, so two calls about
    /// the same address, party or phone arriving together cannot both miss each other. SQLite
    /// needs nothing (`Store.write` holds the write lock); PostgreSQL takes transaction-scoped
    /// advisory locks (class 18004) in a fixed order. Call inside `Store.write` before `candidates`.
    public func lockKeys(_ k: IncidentKeys, on db: any Database) async throws {
        try await lockKeys([k], on: db)
    }

    /// `lockKeys` for several incidents stored in one transaction (a batch from the dispatch
    /// system): every key taken once, all in one sorted order, so two batches sharing keys queue
    /// instead of deadlocking. Locks already held by the transaction are taken again at no wait.
    public func lockKeys(_ all: [IncidentKeys], on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        var keys: Set<String> = []
        for k in all {
            let c = k.category.rawValue
            for key in [k.addressID.map { "a:\(c):\($0.uuidString.lowercased())" }, k.partyIndex.map { "p:\(c):\($0)" }, k.callerPhoneIndex.map { "c:\(c):\($0)" }] {
                if let key { keys.insert(key) }
            }
        }
        guard !keys.isEmpty else { return }
        try await sql.raw("""
            SELECT pg_advisory_xact_lock(18004, hashtext(k)) FROM unnest(\(bind: keys.sorted())::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n
            """).run()
    }

    /// The open dispute linked to the chain whose first incident is `firstID` (the first, or any
    /// repeat of it, that carries a dispute), if any.
    public func chainDispute(firstID: UUID, on db: any Database) async throws -> UUID? {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().column("dispute_id").from("police_incidents")
            // Parenthesised: SQLKit writes `a OR b AND c` otherwise, and the first incident of a
            // chain without a dispute came back with a NULL dispute id.
            .where(SQLGroupExpression(SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("id"), .equal, SQLBind(firstID)), .or, SQLBinaryExpression(SQLColumn("repeat_of"), .equal, SQLBind(firstID)))))
            .where("dispute_id", .isNot, SQLLiteral.null).orderBy("reported_at").limit(50).all()
        return try rows.first?.decode(column: "dispute_id", as: UUID.self)
    }

    func decode(_ r: any SQLRow) throws -> IncidentRecord {
        let lon = try r.decode(column: "lon", as: Double?.self), lat = try r.decode(column: "lat", as: Double?.self)
        return IncidentRecord(
            id: try r.decode(column: "id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
            communityID: try r.decode(column: "community_id", as: UUID.self),
            category: IncidentCategory(rawValue: try r.decode(column: "category", as: String.self)) ?? .other,
            priority: IncidentPriority(rawValue: try r.decode(column: "priority", as: String.self)) ?? .p3,
            state: IncidentState(rawValue: try r.decode(column: "state", as: String.self)) ?? .received,
            addressID: try r.decode(column: "address_id", as: UUID?.self), location: lon.flatMap { lo in lat.map { GeoPoint(lon: lo, lat: $0) } },
            callerName: try r.decode(column: "caller_name", as: String?.self),
            callerPhone: try r.decode(column: "caller_phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) },
            partyIDNumber: try r.decode(column: "party_id_number_enc", as: String?.self).map { try cipher.open($0) },
            summary: try r.decode(column: "summary", as: String.self), reportedAt: try r.decode(column: "reported_at", as: Date.self),
            dispatchedAt: try r.decode(column: "dispatched_at", as: Date?.self), arrivedAt: try r.decode(column: "arrived_at", as: Date?.self),
            isRepeat: try r.decode(column: "is_repeat", as: Bool.self), repeatOf: try r.decode(column: "repeat_of", as: UUID?.self),
            duplicateOf: try r.decode(column: "duplicate_of", as: UUID?.self), disputeID: try r.decode(column: "dispute_id", as: UUID?.self),
            disposition: try r.decode(column: "disposition", as: String?.self).flatMap(IncidentEvent.init(rawValue:)))
    }
}
