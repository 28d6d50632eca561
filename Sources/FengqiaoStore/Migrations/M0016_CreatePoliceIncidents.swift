import FluentKit
import SQLKit

/// 警情 (domain spec §3.7, §4.6). The caller's phone and a named party's ID number are stored
/// only encrypted beside blind indexes. Repeat detection (§3.7.3) never scans: each key has a
/// composite index `(category, key, reported_at)` — standard address, party, caller phone — and
/// same-event duplicates use `(category, reported_at)`, so a lookup reads only the rows of one
/// key inside the window, however many incidents are stored.
public struct M0016_CreatePoliceIncidents: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("police_incidents")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("community_id", .uuid, .required, .references("communities", "id"))
            .field("category", .string, .required)
            .field("priority", .string, .required)
            .field("state", .string, .required)
            .field("address_id", .uuid, .references("standard_addresses", "id"))
            .field("lon", .double)
            .field("lat", .double)
            .field("caller_name", .string)
            .field("caller_phone_enc", .string)
            .field("caller_phone_idx", .string)
            .field("party_id_number_enc", .string)
            .field("party_idx", .string)
            .field("summary", .string, .required)
            .field("reported_at", .datetime, .required)
            .field("dispatched_at", .datetime)
            .field("arrived_at", .datetime)
            .field("is_repeat", .bool, .required)
            .field("repeat_of", .uuid)
            .field("duplicate_of", .uuid)
            .field("dispute_id", .uuid, .references("disputes", "id"))
            .field("disposition", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "incidents_address_key_idx").on("police_incidents").column("category").column("address_id").column("reported_at").run()
        try await sql.create(index: "incidents_party_key_idx").on("police_incidents").column("category").column("party_idx").column("reported_at").run()
        try await sql.create(index: "incidents_phone_key_idx").on("police_incidents").column("category").column("caller_phone_idx").column("reported_at").run()
        try await sql.create(index: "incidents_category_time_idx").on("police_incidents").column("category").column("reported_at").run()
        try await sql.create(index: "incidents_grid_time_idx").on("police_incidents").column("grid_id").column("reported_at").run()
        try await sql.create(index: "incidents_repeat_of_idx").on("police_incidents").column("repeat_of").run()
        try await sql.create(index: "incidents_dispute_idx").on("police_incidents").column("dispute_id").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("police_incidents").delete()
    }
}
