import FluentKit
import SQLKit

/// Police stations → communities → residential groups → grids → buildings.
public struct M0002_CreateTerritories: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("police_stations")
            .id()
            .field("name", .string, .required)
            .field("division_code", .string, .required)
            .field("address", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        try await database.schema("communities")
            .id()
            .field("station_id", .uuid, .required, .references("police_stations", "id"))
            .field("name", .string, .required)
            .field("township_code", .string, .required)
            .field("division_code12", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "station_id", "name")
            .create()
        try await database.schema("residential_groups")
            .id()
            .field("community_id", .uuid, .required, .references("communities", "id"))
            .field("name", .string, .required)
            .field("sequence", .int, .required)
            .unique(on: "community_id", "sequence")
            .create()
        try await database.schema("grids")
            .id()
            .field("community_id", .uuid, .required, .references("communities", "id"))
            .field("residential_group_id", .uuid, .references("residential_groups", "id"))
            .field("code", .string, .required)
            .field("name", .string, .required)
            .field("kind", .string, .required)
            .field("polygon", .string)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .unique(on: "code")
            .create()
        try await database.schema("buildings")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("name", .string, .required)
            .field("address", .string)
            .field("floors", .int)
            .field("lon", .double)
            .field("lat", .double)
            .field("created_at", .datetime)
            .field("updated_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "communities_station_idx").on("communities").column("station_id").run()
        try await sql.create(index: "groups_community_idx").on("residential_groups").column("community_id").run()
        try await sql.create(index: "grids_community_idx").on("grids").column("community_id").run()
        try await sql.create(index: "buildings_grid_idx").on("buildings").column("grid_id").run()
    }
    public func revert(on database: any Database) async throws {
        for t in ["buildings", "grids", "residential_groups", "communities", "police_stations"] {
            try await database.schema(t).delete()
        }
    }
}
