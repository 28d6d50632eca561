import FluentKit
import SQLKit

/// 导出审批: one approval record per export of personal data (domain spec §7.3). The filter is the
/// export's search criteria as JSON and never holds an exact ID number or phone (the service
/// refuses those), so nothing here needs sealing. Indexed by requester (their list) and status
/// (the approvers' queue).
public struct M0027_CreateExportApprovals: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("export_approvals")
            .id()
            .field("kind", .string, .required)
            .field("requester_id", .uuid, .required, .references("users", "id"))
            .field("requester_name", .string, .required)
            .field("requester_territory_id", .uuid)
            .field("filter", .string, .required)
            .field("format", .string, .required)
            .field("purpose", .string, .required)
            .field("rows", .int64, .required)
            .field("status", .string, .required)
            .field("requested_at", .datetime, .required)
            .field("approver_id", .uuid, .references("users", "id"))
            .field("approver_name", .string)
            .field("decided_at", .datetime)
            .field("note", .string)
            .field("valid_until", .datetime)
            .field("used_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "export_approvals_requester_idx").on("export_approvals").column("requester_id").column("requested_at").run()
        try await sql.create(index: "export_approvals_status_idx").on("export_approvals").column("status").column("requested_at").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("export_approvals").delete()
    }
}
