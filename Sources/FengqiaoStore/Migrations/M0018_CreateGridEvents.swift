import FluentKit
import SQLKit

/// Grid events and hazards (网格事件/安全隐患, domain spec §3.8, §4.2–4.3) and their photos.
///
/// `grid_events` keeps the lifecycle state and the counters of `GridEventProgress` as columns.
/// Locations are kept as WGS-84 micro-degrees (`lat_e6`, `lon_e6`, integers) so the nearby
/// duplicate lookup is an index range scan on `(category, is_open, lat_e6)` followed by an exact
/// distance check, and a same-building lookup uses `(building_id, category, is_open)`.
/// `stage_started_at` is when the current deadline stage began (overdue computation).
///
/// `event_photos` links an event to a photo stored once by its SHA-256 content hash under
/// `<data-dir>/photos/` (the bytes are not in the database); `(event_id, sha256)` is unique.
public struct M0018_CreateGridEvents: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("grid_events")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("community_id", .uuid, .required, .references("communities", "id"))
            .field("building_id", .uuid, .references("buildings", "id"))
            .field("lat_e6", .int64)
            .field("lon_e6", .int64)
            .field("category", .string, .required)
            .field("severity", .string, .required)
            .field("source", .string, .required)
            .field("description", .string, .required)
            .field("state", .string, .required)
            .field("is_open", .bool, .required)
            .field("reporter_id", .uuid, .required)
            .field("dispatched_to", .uuid)
            .field("whistle_reason", .string)
            .field("whistled", .bool, .required)
            .field("handler_id", .uuid)
            .field("reopen_count", .int, .required)
            .field("return_count", .int, .required)
            .field("void_reason", .string)
            .field("check_passed", .bool, .required)
            .field("satisfaction", .int)
            .field("stage_started_at", .datetime, .required)
            .field("closed_at", .datetime)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "grid_events_nearby_idx").on("grid_events").column("category").column("is_open").column("lat_e6").run()
        try await sql.create(index: "grid_events_building_idx").on("grid_events").column("building_id").column("category").column("is_open").run()
        try await sql.create(index: "grid_events_grid_state_idx").on("grid_events").column("grid_id").column("state").run()
        try await sql.create(index: "grid_events_dispatched_idx").on("grid_events").column("dispatched_to").run()

        try await database.schema("event_photos")
            .id()
            .field("event_id", .uuid, .required, .references("grid_events", "id", onDelete: .cascade))
            .field("sha256", .string, .required)
            .field("format", .string, .required)
            .field("byte_count", .int64, .required)
            .field("stage", .string, .required)
            .field("uploaded_by", .uuid, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await sql.create(index: "event_photos_event_hash_uq").on("event_photos").column("event_id").column("sha256").unique().run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("event_photos").delete()
        try await database.schema("grid_events").delete()
    }
}
