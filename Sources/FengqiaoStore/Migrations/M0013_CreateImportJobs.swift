import FluentKit
import SQLKit

/// 批量导入任务: bulk imports run in the background (`import_jobs`), with the rows each one did
/// not write (`import_job_issues`: line, column, reason, rejected or flagged) kept for the error
/// report. The uploaded file itself is never stored in the database; it lives under
/// `<data-dir>/imports/` only while its job runs. `heartbeat_at` is refreshed by the running server,
/// so a job whose server died can be told from one still running on another server.
public struct M0013_CreateImportJobs: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("import_jobs")
            .id()
            .field("kind", .string, .required)
            .field("file_name", .string, .required)
            .field("file_bytes", .int64, .required)
            .field("dry_run", .bool, .required)
            .field("grid_code", .string)
            .field("status", .string, .required)
            .field("rows_read", .int64, .required)
            .field("imported", .int64, .required)
            .field("unchanged", .int64, .required)
            .field("flagged", .int64, .required)
            .field("rejected", .int64, .required)
            .field("addresses_created", .int64, .required)
            .field("estimated_rows", .int64)
            .field("error", .string)
            .field("warnings", .string)
            .field("created_by", .uuid, .required, .references("users", "id"))
            .field("created_at", .datetime, .required)
            .field("started_at", .datetime)
            .field("finished_at", .datetime)
            .field("heartbeat_at", .datetime, .required)
            .create()
        try await database.schema("import_job_issues")
            .field("job_id", .uuid, .required, .references("import_jobs", "id", onDelete: .cascade))
            .field("seq", .int64, .required)
            .field("line", .int64, .required)
            .field("column_name", .string, .required)
            .field("reason", .string, .required)
            .field("kind", .string, .required)
            .compositeIdentifier(over: "job_id", "seq")
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "import_jobs_owner_idx").on("import_jobs").column("created_by").column("created_at").run()
        try await sql.create(index: "import_jobs_status_idx").on("import_jobs").column("status").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("import_job_issues").delete()
        try await database.schema("import_jobs").delete()
    }
}
