import FluentKit
import SQLKit

/// Adds the longitude to the nearby-duplicate index (issue 5, §4.2 "open events of the same
/// category nearby"): `grid_events_nearby_idx (category, is_open, lat_e6)` becomes
/// `(category, is_open, lat_e6, lon_e6)`, so the longitude half of the bounding box is tested in
/// the index instead of by reading every row of the latitude band (at 1,000,000 events, ~600 row
/// reads per lookup in a community 1.6 km tall became ~20).
public struct M0028_WidenNearbyIndex: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "grid_events_nearby_idx").run()
        try await sql.create(index: "grid_events_nearby_idx").on("grid_events").column("category").column("is_open").column("lat_e6").column("lon_e6").run()
    }
    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "grid_events_nearby_idx").run()
        try await sql.create(index: "grid_events_nearby_idx").on("grid_events").column("category").column("is_open").column("lat_e6").run()
    }
}
