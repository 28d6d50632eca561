import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Building listings, batch reads and verification (核采) for standard addresses.
extension AddressRepository {
    /// Addresses by id without a scope check: only for ids a scoped read has just returned.
    public func find(ids: [UUID], on db: any Database) async throws -> [UUID: StandardAddress] {
        let sql = db as! any SQLDatabase
        var out: [UUID: StandardAddress] = [:]
        for chunk in Array(Set(ids)).chunked(500) {
            let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("standard_addresses")
                .where("id", .in, SQLBind.group(Array(chunk))).all()
            for r in rows {
                let a = try Self.decode(r)
                out[a.id] = a
            }
        }
        return out
    }

    /// The addresses linked to a building record, in address order (at most 2,000).
    public func addresses(inBuilding buildingID: UUID, on db: any Database) async throws -> [StandardAddress] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("standard_addresses")
            .where("building_id", .equal, SQLBind(buildingID))
            .orderBy("unit").orderBy("floor").orderBy("room").orderBy("street").orderBy("doorplate").orderBy("id")
            .limit(2000).all()
        return try rows.map(Self.decode)
    }

    /// The 核采 state of each address (ids not found are absent).
    public func verificationStates(_ ids: [UUID], on db: any Database) async throws -> [UUID: VerificationState] {
        try await VerificationColumns.states(table: "standard_addresses", ids: ids, on: db)
    }

    /// Records a verification (call inside `Store.write`, with its audit record).
    public func recordVerification(_ id: UUID, outcome: VerificationOutcome, at: Date, by: UUID?, byName: String?, on db: any Database) async throws {
        try await VerificationColumns.record(table: "standard_addresses", id: id, outcome: outcome, at: at, by: by, byName: byName, on: db)
    }

    /// A grid's active addresses whose last check (verification, else collection) lies before
    /// `cutoff`, the longest-waiting first; with the total before paging.
    public func overdue(gridID: UUID, cutoff: Date, limit: Int, offset: Int, on db: any Database) async throws -> ([(StandardAddress, VerificationState)], Int) {
        let sql = db as! any SQLDatabase
        func filtered<B: SQLPredicateBuilder>(_ b: B) -> B {
            b.where("grid_id", .equal, SQLBind(gridID)).where("status", .equal, SQLBind(StandardAddress.Status.active.rawValue))
                .where(VerificationColumns.lastChecked, .lessThan, SQLBind(cutoff))
        }
        let total = try await filtered(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("standard_addresses"))
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await filtered(sql.select().columns((Self.columns + VerificationColumns.names).map { SQLColumn($0) }).from("standard_addresses"))
            .orderBy(VerificationColumns.lastChecked).orderBy("street").orderBy("doorplate").orderBy("building").orderBy("unit")
            .orderBy("floor").orderBy("room").orderBy("id").limit(limit).offset(offset).all()
        return (try rows.map { (try Self.decode($0), try VerificationColumns.decode($0)) }, total)
    }

    /// Per grid: active addresses and how many are overdue (last check before `cutoff`).
    public func counts(gridIDs: [UUID], cutoff: Date, on db: any Database) async throws -> [UUID: (active: Int, overdue: Int)] {
        let sql = db as! any SQLDatabase
        var out: [UUID: (active: Int, overdue: Int)] = [:]
        for chunk in gridIDs.chunked(500) {
            let rows = try await sql.raw("""
                SELECT grid_id, COUNT(*) AS n, SUM(CASE WHEN \(VerificationColumns.lastChecked) < \(bind: cutoff) THEN 1 ELSE 0 END) AS overdue
                FROM standard_addresses WHERE grid_id IN \(SQLBind.group(Array(chunk))) AND status = \(bind: StandardAddress.Status.active.rawValue)
                GROUP BY grid_id
                """).all()
            for r in rows {
                out[try r.decode(column: "grid_id", as: UUID.self)] = (try r.decode(column: "n", as: Int.self), try r.decode(column: "overdue", as: Int.self))
            }
        }
        return out
    }
}
