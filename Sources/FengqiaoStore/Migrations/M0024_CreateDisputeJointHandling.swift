import FluentKit
import SQLKit

/// Joint handling of disputes with the governance centre (双推送、双盯办、双化解, issue 4): one row
/// per joint case with each side's owner, deadline (indexed for reminders) and sign-off; the
/// timeline of police incidents (notifications of the grid worker for first response, dispatch,
/// arrival, disposition — §4.6) and the incident's handling times (designated officer, disposition
/// time) beside `police_incidents`, whose shipped columns stay as they are.
public struct M0024_CreateDisputeJointHandling: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("dispute_joint")
            .id()
            .field("dispute_id", .uuid, .required, .references("disputes", "id"))
            .field("pushed_by", .string, .required)
            .field("pushed_at", .datetime, .required)
            .field("police_owner_id", .uuid)
            .field("police_owner_name", .string)
            .field("police_due_at", .datetime)
            .field("police_signed_off_at", .datetime)
            .field("police_signed_off_by", .string)
            .field("centre_owner_id", .uuid)
            .field("centre_owner_name", .string)
            .field("centre_due_at", .datetime)
            .field("centre_signed_off_at", .datetime)
            .field("centre_signed_off_by", .string)
            .field("updated_at", .datetime, .required)
            .unique(on: "dispute_id")
            .create()
        try await database.schema("incident_timeline")
            .id()
            .field("incident_id", .uuid, .required, .references("police_incidents", "id"))
            .field("seq", .int, .required)
            .field("at", .datetime, .required)
            .field("actor_id", .uuid)
            .field("actor_name", .string, .required)
            .field("kind", .string, .required)
            .field("recipient_id", .uuid)
            .field("detail", .string)
            .create()
        try await database.schema("incident_handling")
            .id()
            .field("incident_id", .uuid, .required, .references("police_incidents", "id"))
            .field("grid_worker_id", .uuid)
            .field("grid_worker_name", .string)
            .field("notified_at", .datetime)
            .field("officer_id", .uuid)
            .field("officer_name", .string)
            .field("disposed_at", .datetime)
            .unique(on: "incident_id")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "dispute_joint_police_due_idx").on("dispute_joint").column("police_due_at").run()
        try await sql.create(index: "dispute_joint_centre_due_idx").on("dispute_joint").column("centre_due_at").run()
        try await sql.create(index: "incident_timeline_incident_idx").on("incident_timeline").column("incident_id").column("seq").run()
        try await sql.create(index: "disputes_state_effective_idx").on("disputes").column("state").column("effective_on").run()
        try await sql.create(index: "incidents_community_time_idx").on("police_incidents").column("community_id").column("reported_at").run()
    }
    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "disputes_state_effective_idx").run()
        try await sql.drop(index: "incidents_community_time_idx").run()
        for t in ["incident_handling", "incident_timeline", "dispute_joint"] { try await database.schema(t).delete() }
    }
}
