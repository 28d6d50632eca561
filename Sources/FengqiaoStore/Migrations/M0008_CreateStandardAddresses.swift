import FluentKit
import SQLKit

/// 标准地址 (domain spec §2.3, §3.1): the GA/T 2000.32 elements of an address, its grid (data
/// scope) and optional building. Retired addresses stay (`status = retired`).
public struct M0008_CreateStandardAddresses: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("standard_addresses")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("building_id", .uuid, .references("buildings", "id"))
            .field("division_code12", .string)
            .field("street", .string, .required)
            .field("doorplate", .string, .required)
            .field("estate_name", .string)
            .field("building", .string, .required)
            .field("unit", .string, .required)
            .field("floor", .string, .required)
            .field("room", .string, .required)
            .field("status", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "addresses_grid_idx").on("standard_addresses").column("grid_id").run()
        try await sql.create(index: "addresses_building_idx").on("standard_addresses").column("building_id").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("standard_addresses").delete()
    }
}
