import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Adds `address_key` to standard addresses: `StandardAddress.naturalKey` (SHA-256 of the grid and
/// the street-to-room elements), indexed, so the bulk import resolves a batch of address rows with
/// one indexed query instead of holding every address of a grid in memory. Existing rows are
/// backfilled. Not unique: earlier data may hold the same place twice; the import reuses the oldest.
/// Resident names are indexed with the id (the listing order); on PostgreSQL also with
/// `text_pattern_ops` for prefix search.
public struct M0014_AddAddressNaturalKey: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.alter(table: "standard_addresses").column("address_key", type: .text).run()
        let rows = try await sql.select().columns("id", "grid_id", "street", "doorplate", "estate_name", "building", "unit", "floor", "room")
            .from("standard_addresses").all()
        for r in rows {
            let a = StandardAddress(
                id: try r.decode(column: "id", as: UUID.self), street: try r.decode(column: "street", as: String.self),
                doorplate: try r.decode(column: "doorplate", as: String.self), estateName: try r.decode(column: "estate_name", as: String?.self),
                building: try r.decode(column: "building", as: String.self), unit: try r.decode(column: "unit", as: String.self),
                floor: try r.decode(column: "floor", as: String.self), room: try r.decode(column: "room", as: String.self),
                gridID: try r.decode(column: "grid_id", as: UUID.self))
            try await sql.update("standard_addresses").set("address_key", to: SQLBind(a.naturalKey)).where("id", .equal, SQLBind(a.id)).run()
        }
        try await sql.create(index: "addresses_key_idx").on("standard_addresses").column("address_key").run()
        // Search results are listed by (name, id): one index serves the name range, the order
        // and the LIMIT, so a common surname does not sort all its rows to show the first page.
        try await sql.drop(index: "residents_name_idx").run()
        try await sql.create(index: "residents_name_id_idx").on("actual_residents").column("name").column("id").run()
        if sql.dialect.name == "postgresql" {
            // Name-prefix search (`LIKE 'p%'`) under any database collation.
            try await sql.raw("CREATE INDEX residents_name_pattern_idx ON actual_residents (name text_pattern_ops)").run()
        }
    }
    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "addresses_key_idx").run()
        if sql.dialect.name == "postgresql" { try await sql.drop(index: "residents_name_pattern_idx").run() }
        try await sql.drop(index: "residents_name_id_idx").run()
        try await sql.create(index: "residents_name_idx").on("actual_residents").column("name").run()
        try await sql.alter(table: "standard_addresses").dropColumn("address_key").run()
    }
}
