import FengqiaoCore
import FluentKit
import FluentSQLiteDriver
import Foundation
import SQLKit

/// Reads and writes standard addresses (标准地址) through SQLKit, always filtered by the grids
/// the caller may see. Out-of-scope addresses are `DomainError.notFound`, like missing ones.
public struct AddressRepository: Sendable {
    public init() {}

    static let columns = [
        "id", "grid_id", "building_id", "division_code12", "street", "doorplate", "estate_name", "building", "unit", "floor", "room", "status",
    ]

    /// Inserts a new address (call inside `Store.write`).
    public func insert(_ a: StandardAddress, on db: any Database, now: Date = Date()) async throws {
        try await insert([a], on: db, now: now)
    }

    /// Inserts new addresses in multi-row writes (`BulkInsert`; call inside `Store.write`).
    /// - Parameter createdAuditSeq: the `audit_log.seq` of the batch's audit record (bulk import,
    ///   M0026), or nil when each address has its own record.
    public func insert(_ list: [StandardAddress], createdAuditSeq: Int64? = nil, on db: any Database, now: Date = Date()) async throws {
        let seq = BulkValue.int(createdAuditSeq.map { Int($0) })
        let rows: [[BulkValue]] = list.map { a in
            [
                .uuid(a.id), .uuid(a.gridID), .uuid(a.buildingID), .text(a.divisionCode12), .text(a.street), .text(a.doorplate),
                .text(a.estateName), .text(a.building), .text(a.unit), .text(a.floor), .text(a.room), .text(a.status.rawValue),
                .text(a.naturalKey), .date(now), .date(now), seq,
            ]
        }
        try await BulkInsert.insert(into: "standard_addresses", columns: Self.columns + ["address_key", "created_at", "updated_at", "created_audit_seq"], rows: rows, on: db)
    }

    /// Active addresses by `StandardAddress.naturalKey`, in any territory (the caller resolves
    /// keys of grids it may see): key → the oldest active address with that key.
    public func activeIDs(forKeys keys: some Collection<String>, on db: any Database) async throws -> [String: UUID] {
        let sql = db as! any SQLDatabase
        var found: [String: UUID] = [:]
        for chunk in Array(Set(keys)).chunked(500) {
            let rows = try await sql.select().column("id").column("address_key").from("standard_addresses")
                .where("address_key", .in, SQLBind.group(Array(chunk))).where("status", .equal, SQLBind(StandardAddress.Status.active.rawValue))
                .orderBy("created_at").all()
            for r in rows {
                let k = try r.decode(column: "address_key", as: String.self)
                if found[k] == nil { found[k] = try r.decode(column: "id", as: UUID.self) }
            }
        }
        return found
    }

    /// The address, if it exists and lies in a visible grid.
    /// - Throws: `DomainError.notFound("address")` otherwise.
    public func find(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> StandardAddress {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("standard_addresses").where("id", .equal, SQLBind(id)).first(),
              let a = try? Self.decode(row), v.canSee(grid: a.gridID)
        else { throw DomainError.notFound(kind: "address") }
        return a
    }

    /// Several addresses by id in one query (any status), those in visible grids: id → address.
    public func find(ids: some Collection<UUID>, visible v: VisibleTerritory, on db: any Database) async throws -> [UUID: StandardAddress] {
        let sql = db as! any SQLDatabase
        var out: [UUID: StandardAddress] = [:]
        for chunk in Array(Set(ids)).chunked(500) {
            let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("standard_addresses").where("id", .in, SQLBind.group(Array(chunk))).all()
            for row in rows {
                let a = try Self.decode(row)
                if v.canSee(grid: a.gridID) { out[a.id] = a }
            }
        }
        return out
    }

    /// Addresses in the visible grids (optionally one grid), ordered by street, doorplate,
    /// building, unit, floor and room; with the total before paging.
    public func list(gridID: UUID?, visible v: VisibleTerritory, limit: Int, offset: Int, on db: any Database) async throws -> ([StandardAddress], Int) {
        let sql = db as! any SQLDatabase
        var grids: [UUID]? = v.gridIDs.map(Array.init)
        if let g = gridID {
            guard v.canSee(grid: g) else { return ([], 0) }
            grids = [g]
        }
        if let grids, grids.isEmpty { return ([], 0) }
        func filtered<B: SQLPredicateBuilder>(_ b: B) -> B {
            if let grids { _ = b.where("grid_id", .in, SQLBind.group(grids)) }
            return b
        }
        let total = try await filtered(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("standard_addresses"))
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await filtered(sql.select().columns(Self.columns.map { SQLColumn($0) }).from("standard_addresses"))
            .orderBy("street").orderBy("doorplate").orderBy("building").orderBy("unit").orderBy("floor").orderBy("room").orderBy("id")
            .limit(limit).offset(offset).all()
        return (try rows.map(Self.decode), total)
    }

    /// Active addresses in the visible grids (optionally one grid) whose elements contain every
    /// whitespace-separated term of `text` (each term in the street, doorplate, estate, building,
    /// unit, floor or room), in the order of `list`; at most `limit`. `%`, `_` and `\\` in a term are
    /// taken literally (dropped). For pickers (警情 intake, dispute registration).
    public func search(_ text: String, gridID: UUID?, visible v: VisibleTerritory, limit: Int, on db: any Database) async throws -> [StandardAddress] {
        let sql = db as! any SQLDatabase
        var grids: [UUID]? = v.gridIDs.map(Array.init)
        if let g = gridID {
            guard v.canSee(grid: g) else { return [] }
            grids = [g]
        }
        if let grids, grids.isEmpty { return [] }
        let terms = text.split(whereSeparator: \.isWhitespace).map { String($0.filter { $0 != "%" && $0 != "_" && $0 != "\\" }) }.filter { !$0.isEmpty }.prefix(5)
        var q = sql.select().columns(Self.columns.map { SQLColumn($0) }).from("standard_addresses").where("status", .equal, SQLBind(StandardAddress.Status.active.rawValue))
        if let grids { q = q.where("grid_id", .in, SQLBind.group(grids)) }
        for term in terms {
            let pattern = "%\(term)%"
            q = q.where {
                $0.where("street", .like, SQLBind(pattern)).orWhere("doorplate", .like, SQLBind(pattern)).orWhere("estate_name", .like, SQLBind(pattern))
                    .orWhere("building", .like, SQLBind(pattern)).orWhere("unit", .like, SQLBind(pattern)).orWhere("floor", .like, SQLBind(pattern))
                    .orWhere("room", .like, SQLBind(pattern))
            }
        }
        let rows = try await q.orderBy("street").orderBy("doorplate").orderBy("building").orderBy("unit").orderBy("floor").orderBy("room").orderBy("id")
            .limit(limit).all()
        return try rows.map(Self.decode)
    }

    static func decode(_ r: any SQLRow) throws -> StandardAddress {
        StandardAddress(
            id: try r.decode(column: "id", as: UUID.self), divisionCode12: try r.decode(column: "division_code12", as: String?.self),
            street: try r.decode(column: "street", as: String.self), doorplate: try r.decode(column: "doorplate", as: String.self),
            estateName: try r.decode(column: "estate_name", as: String?.self), building: try r.decode(column: "building", as: String.self),
            unit: try r.decode(column: "unit", as: String.self), floor: try r.decode(column: "floor", as: String.self),
            room: try r.decode(column: "room", as: String.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
            buildingID: try r.decode(column: "building_id", as: UUID?.self),
            status: StandardAddress.Status(rawValue: try r.decode(column: "status", as: String.self)) ?? .active)
    }
}
