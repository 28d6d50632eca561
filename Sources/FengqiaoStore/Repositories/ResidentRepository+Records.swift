import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// One grid's 一标三实 figures for the grid and community pages (domain spec §8): current
/// residents by population type (§3.1: 户籍 / 流动 / 境外), how many live apart from their hukou
/// (人户分离), and the residents and active addresses whose 核采 is overdue.
/// Deregistered residents and retired addresses are not counted.
public struct GridPopulationCounts: Sendable, Equatable, Codable {
    public var gridID: UUID
    public var registered = 0
    public var migrant = 0
    public var foreign = 0
    public var hukouSeparated = 0
    public var residentsOverdue = 0
    public var addresses = 0
    public var addressesOverdue = 0

    public init(gridID: UUID) { self.gridID = gridID }

    /// Current residents of every population type.
    public var residents: Int { registered + migrant + foreign }

    /// The sum of several grids' figures under `gridID`.
    public static func total(_ all: some Sequence<GridPopulationCounts>, as id: UUID) -> GridPopulationCounts {
        var t = GridPopulationCounts(gridID: id)
        for c in all {
            t.registered += c.registered
            t.migrant += c.migrant
            t.foreign += c.foreign
            t.hukouSeparated += c.hukouSeparated
            t.residentsOverdue += c.residentsOverdue
            t.addresses += c.addresses
            t.addressesOverdue += c.addressesOverdue
        }
        return t
    }
}

/// The position after the last row read, for keyset paging in the listing order (name, id): an
/// export walks 100 k rows without `OFFSET` rescans.
public struct ResidentCursor: Sendable, Equatable {
    public var name: String
    public var id: UUID
    public init(name: String, id: UUID) {
        self.name = name
        self.id = id
    }
}

/// Search by address, verification (核采), deregistration and export reads for actual residents.
extension ResidentRepository {
    /// The grids a query covers: `nil` inside means every grid; `nil` outside means none is visible.
    func scope(_ q: ResidentQuery, _ v: VisibleTerritory) -> [UUID]?? {
        var grids: [UUID]? = v.gridIDs.map(Array.init)
        if let g = q.gridID {
            guard v.canSee(grid: g) else { return .none }
            grids = [g]
        }
        if let grids, grids.isEmpty { return .none }
        return .some(grids)
    }

    /// The WHERE conditions of a query over `actual_residents`: grids, exact document number and
    /// phone through their blind index, name prefix, and the address filters.
    ///
    /// On SQLite the name prefix is a range (`name >= p AND name < p || U+10FFFF`), which the
    /// name index serves under the column's binary collation (a `LIKE` would scan every row); when
    /// an exact value or a name prefix narrows the search, `+grid_id` keeps the planner, which has
    /// no statistics, on that index instead of walking every row of the caller's grids. PostgreSQL
    /// keeps `LIKE 'p%'`, served by the `text_pattern_ops` index of M0014.
    func conditions(_ q: ResidentQuery, grids: [UUID]?, dialect: String) -> [any SQLExpression] {
        var conditions: [any SQLExpression] = []
        let sqlite = dialect == "sqlite"
        let narrowed = q.idNumber != nil || q.phone != nil || !(q.namePrefix ?? "").isEmpty
        if let grids {
            let column: any SQLExpression = sqlite && narrowed ? SQLRaw("+grid_id") : SQLColumn("grid_id")
            conditions.append(SQLBinaryExpression(column, .in, SQLBind.group(grids)))
        }
        if let n = q.idNumber {
            conditions.append(SQLBinaryExpression(SQLColumn("id_number_idx"), .equal, SQLBind(cipher.blindIndex(ActualResident.indexKey(idNumber: n)))))
        }
        if let p = q.phone {
            conditions.append(SQLBinaryExpression(SQLColumn("phone_idx"), .equal, SQLBind(cipher.blindIndex(ActualResident.indexKey(phone: p)))))
        }
        if let prefix = q.namePrefix, !prefix.isEmpty {
            if sqlite {
                conditions.append(SQLQueryString("name >= \(bind: prefix) AND name < \(bind: prefix + "\u{10FFFF}")"))
            } else {
                conditions.append(SQLQueryString("name LIKE \(bind: Self.likeEscaped(prefix) + "%") ESCAPE '\\'"))
            }
        }
        conditions += addressConditions(q, grids: grids)
        return conditions
    }

    /// `address_id IN (SELECT id FROM standard_addresses WHERE …)` for the address filters: text
    /// contained in the street, doorplate or estate name; the building element (`3` also finds
    /// `3栋`, `3幢`, `3座`, `3楼`); the linked building record. The sub-select is limited to the
    /// same grids so it stays inside the caller's scope and uses the grid index.
    func addressConditions(_ q: ResidentQuery, grids: [UUID]?) -> [any SQLExpression] {
        var inner: [any SQLExpression] = []
        if let grids { inner.append(SQLBinaryExpression(SQLColumn("grid_id"), .in, SQLBind.group(grids))) }
        if let text = q.addressText, !text.isEmpty {
            let p = "%" + Self.likeEscaped(text) + "%"
            inner.append(SQLQueryString("(street LIKE \(bind: p) ESCAPE '\\' OR doorplate LIKE \(bind: p) ESCAPE '\\' OR estate_name LIKE \(bind: p) ESCAPE '\\')"))
        }
        if let b = q.building, !b.isEmpty {
            inner.append(SQLBinaryExpression(SQLColumn("building"), .in, SQLBind.group(Self.buildingSpellings(b))))
        }
        if let bid = q.buildingID {
            inner.append(SQLBinaryExpression(SQLColumn("building_id"), .equal, SQLBind(bid)))
        }
        guard inner.count > (grids == nil ? 0 : 1) else { return [] }
        let clause = SQLList(inner.map { SQLGroupExpression($0) }, separator: SQLRaw(" AND "))
        return [SQLQueryString("address_id IN (SELECT id FROM standard_addresses WHERE \(clause))")]
    }

    /// The ways a building element is written: `3`, `3栋`, `3幢`, `3座`, `3楼`.
    static func buildingSpellings(_ raw: String) -> [String] {
        let suffixes = ["栋", "幢", "座", "楼"]
        var base = raw
        if let s = suffixes.first(where: { raw.hasSuffix($0) }), raw.count > 1 { base = String(raw.dropLast(s.count)) }
        return [base] + suffixes.map { base + $0 }
    }

    static func likeEscaped(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    static func whereClause(_ conditions: [any SQLExpression]) -> any SQLExpression {
        conditions.isEmpty ? SQLRaw("1 = 1") : SQLList(conditions.map { SQLGroupExpression($0) }, separator: SQLRaw(" AND "))
    }

    /// How many residents in the visible grids match `q` (paging fields ignored).
    public func count(_ q: ResidentQuery, visible v: VisibleTerritory, on db: any Database) async throws -> Int {
        guard case .some(let grids) = scope(q, v) else { return 0 }
        let sql = db as! any SQLDatabase
        return try await sql.raw("SELECT COUNT(*) AS n FROM actual_residents WHERE \(Self.whereClause(conditions(q, grids: grids, dialect: sql.dialect.name)))")
            .first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The next `limit` residents matching `q` after `cursor`, in the listing order (name, id).
    public func page(_ q: ResidentQuery, visible v: VisibleTerritory, after cursor: ResidentCursor?, limit: Int, on db: any Database) async throws -> [ActualResident] {
        guard case .some(let grids) = scope(q, v) else { return [] }
        let sql = db as! any SQLDatabase
        var cs = conditions(q, grids: grids, dialect: sql.dialect.name)
        if let c = cursor {
            cs.append(SQLQueryString("(name > \(bind: c.name) OR (name = \(bind: c.name) AND id > \(bind: c.id)))"))
        }
        let rows = try await sql.raw("""
            SELECT \(SQLList(Self.columns.map { SQLColumn($0) })) FROM actual_residents WHERE \(Self.whereClause(cs))
            ORDER BY name, id LIMIT \(literal: limit)
            """).all()
        return try rows.map(decode)
    }

    /// Residents by id, in no particular order, without a scope check: only for ids a scoped read
    /// has just returned (the second pass of an export).
    public func find(ids: [UUID], on db: any Database) async throws -> [ActualResident] {
        let sql = db as! any SQLDatabase
        var out: [ActualResident] = []
        for chunk in ids.chunked(500) {
            let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("actual_residents")
                .where("id", .in, SQLBind.group(Array(chunk))).all()
            out += try rows.map(decode)
        }
        return out
    }

    /// Everyone registered at an address (current first, then deregistered; by name).
    public func residents(atAddress addressID: UUID, on db: any Database) async throws -> [ActualResident] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("actual_residents")
            .where("address_id", .equal, SQLBind(addressID)).orderBy("name").orderBy("id").limit(1000).all()
        let all = try rows.map(decode)
        return all.filter { $0.deregisteredAt == nil } + all.filter { $0.deregisteredAt != nil }
    }

    /// Current (not deregistered) residents per address.
    public func currentCounts(addressIDs: [UUID], on db: any Database) async throws -> [UUID: Int] {
        let sql = db as! any SQLDatabase
        var out: [UUID: Int] = [:]
        for chunk in addressIDs.chunked(500) {
            let rows = try await sql.raw("""
                SELECT address_id, COUNT(*) AS n FROM actual_residents
                WHERE address_id IN \(SQLBind.group(Array(chunk))) AND deregistered_at IS NULL GROUP BY address_id
                """).all()
            for r in rows { out[try r.decode(column: "address_id", as: UUID.self)] = try r.decode(column: "n", as: Int.self) }
        }
        return out
    }

    // MARK: Verification (核采)

    /// The 核采 state of each resident (ids not found are absent).
    public func verificationStates(_ ids: [UUID], on db: any Database) async throws -> [UUID: VerificationState] {
        try await VerificationColumns.states(table: "actual_residents", ids: ids, on: db)
    }

    /// Records a verification (call inside `Store.write`, with its audit record).
    public func recordVerification(_ id: UUID, outcome: VerificationOutcome, at: Date, by: UUID?, byName: String?, on db: any Database) async throws {
        try await VerificationColumns.record(table: "actual_residents", id: id, outcome: outcome, at: at, by: by, byName: byName, on: db)
    }

    /// Writes the fields a 核采 visit may change — phone (sealed and re-indexed), employer,
    /// residence reason, housing relation, hukou address — and the deregistration (call inside
    /// `Store.write`).
    public func update(_ r: ActualResident, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.update("actual_residents")
            .set("phone_enc", to: SQLBind(r.phone.map { cipher.seal($0.e164) }))
            .set("phone_idx", to: SQLBind(r.phone.map { cipher.blindIndex(ActualResident.indexKey(phone: $0)) }))
            .set("employer", to: SQLBind(r.employer)).set("residence_reason", to: SQLBind(r.residenceReason.rawValue))
            .set("housing_relation", to: SQLBind(r.housingRelation.rawValue)).set("hukou_address", to: SQLBind(r.hukouAddress))
            .set("deregistered_at", to: SQLBind(r.deregisteredAt?.description)).set("deregistration_reason", to: SQLBind(r.deregistrationReason))
            .set("updated_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(r.id)).run()
    }

    /// A grid's current residents whose last check (verification, else collection) lies before
    /// `cutoff`, the longest-waiting first; with the total before paging.
    public func overdue(gridID: UUID, cutoff: Date, limit: Int, offset: Int, on db: any Database) async throws -> ([(ActualResident, VerificationState)], Int) {
        let sql = db as! any SQLDatabase
        func filtered<B: SQLPredicateBuilder>(_ b: B) -> B {
            b.where("grid_id", .equal, SQLBind(gridID)).where("deregistered_at", .is, SQLLiteral.null)
                .where(VerificationColumns.lastChecked, .lessThan, SQLBind(cutoff))
        }
        let total = try await filtered(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("actual_residents"))
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await filtered(sql.select().columns((Self.columns + VerificationColumns.names).map { SQLColumn($0) }).from("actual_residents"))
            .orderBy(VerificationColumns.lastChecked).orderBy("name").orderBy("id").limit(limit).offset(offset).all()
        return (try rows.map { (try decode($0), try VerificationColumns.decode($0)) }, total)
    }

    /// Per grid: current residents by population type, hukou-separated, and overdue (last check
    /// before `cutoff`). Grids without residents are absent.
    public func counts(gridIDs: [UUID], cutoff: Date, on db: any Database) async throws -> [UUID: GridPopulationCounts] {
        let sql = db as! any SQLDatabase
        var out: [UUID: GridPopulationCounts] = [:]
        for chunk in gridIDs.chunked(500) {
            let rows = try await sql.raw("""
                SELECT grid_id, population_type, hukou_separated, COUNT(*) AS n,
                SUM(CASE WHEN \(VerificationColumns.lastChecked) < \(bind: cutoff) THEN 1 ELSE 0 END) AS overdue
                FROM actual_residents WHERE grid_id IN \(SQLBind.group(Array(chunk))) AND deregistered_at IS NULL
                GROUP BY grid_id, population_type, hukou_separated
                """).all()
            for r in rows {
                let g = try r.decode(column: "grid_id", as: UUID.self)
                let n = try r.decode(column: "n", as: Int.self)
                var c = out[g] ?? GridPopulationCounts(gridID: g)
                switch ActualResident.PopulationType(rawValue: try r.decode(column: "population_type", as: String.self)) {
                case .registered: c.registered += n
                case .migrant: c.migrant += n
                case .foreign: c.foreign += n
                case nil: break
                }
                if try r.decode(column: "hukou_separated", as: Bool.self) { c.hukouSeparated += n }
                c.residentsOverdue += try r.decode(column: "overdue", as: Int.self)
                out[g] = c
            }
        }
        return out
    }
}
