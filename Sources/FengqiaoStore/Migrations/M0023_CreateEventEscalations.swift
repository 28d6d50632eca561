import FluentKit
import FluentSQL
import SQLKit

/// Overdue escalation of grid events and the indexes of the hazard statistics (issue 5; domain
/// spec §4.2 `any non-terminal --overdue(timer)--> same state + flag overdue, escalate to supervisor`).
///
/// `event_escalations` holds one row per event and deadline stage occurrence that went overdue:
/// `stage_key` is `<stage>:<stage start in ms since 1970>`, unique per event, so a sweep that runs
/// twice (or two sweeps at once) records each overdue stage once. `grid_events.overdue_count`
/// counts those rows, so the statistics read "overdue" and "on time" from the events table alone.
///
/// Indexes for aggregate queries (statistics by grid and period, the map's open events, subsidy
/// totals by month): `grid_events (grid_id, created_at)`, `grid_events (grid_id, is_open,
/// stage_started_at)`, `subsidy_claims (grid_id, state, decided_at)` and `(claimant_id, state, decided_at)`.
public struct M0023_CreateEventEscalations: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("event_escalations")
            .id()
            .field("event_id", .uuid, .required, .references("grid_events", "id", onDelete: .cascade))
            .field("grid_id", .uuid, .required)
            .field("stage", .string, .required)
            .field("stage_key", .string, .required)
            .field("stage_started_at", .datetime, .required)
            .field("due_at", .datetime, .required)
            .field("escalated_at", .datetime, .required)
            .create()
        try await database.schema("grid_events")
            .field("overdue_count", .int, .required, .sql(.default(0)))
            .update()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "event_escalations_stage_uq").on("event_escalations").column("event_id").column("stage_key").unique().run()
        try await sql.create(index: "event_escalations_grid_idx").on("event_escalations").column("grid_id").column("escalated_at").run()
        try await sql.create(index: "grid_events_grid_created_idx").on("grid_events").column("grid_id").column("created_at").run()
        try await sql.create(index: "grid_events_grid_open_idx").on("grid_events").column("grid_id").column("is_open").column("stage_started_at").run()
        try await sql.create(index: "subsidy_claims_grid_decided_idx").on("subsidy_claims").column("grid_id").column("state").column("decided_at").run()
        try await sql.create(index: "subsidy_claims_claimant_decided_idx").on("subsidy_claims").column("claimant_id").column("state").column("decided_at").run()
    }
    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for i in ["grid_events_grid_created_idx", "grid_events_grid_open_idx", "subsidy_claims_grid_decided_idx", "subsidy_claims_claimant_decided_idx"] {
            try await sql.drop(index: i).run()
        }
        try await database.schema("event_escalations").delete()
        try await database.schema("grid_events").deleteField("overdue_count").update()
    }
}
