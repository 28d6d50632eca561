import FluentKit
import SQLKit

/// The append-only audit trail (domain spec §7.3). Triggers refuse UPDATE and DELETE on both
/// engines; on PostgreSQL the application's role also loses the UPDATE, DELETE and TRUNCATE
/// privileges (GB/T 22239-2019 8.1.4.3 c: protect audit records from deletion and change).
public struct M0004_CreateAuditLog: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("audit_log")
            .field("seq", .int64, .identifier(auto: false))
            .field("at", .datetime, .required)
            .field("actor_id", .uuid)
            .field("actor_name", .string)
            .field("actor_role", .string)
            .field("actor_scope", .string)
            .field("action", .string, .required)
            .field("object_type", .string)
            .field("object_id", .string)
            .field("fields", .string, .required)
            .field("purpose", .string)
            .field("legal_basis", .string)
            .field("result", .string, .required)
            .field("client_ip", .string)
            .field("user_agent", .string)
            .field("request_id", .string)
            .field("detail", .string)
            .field("prev_hash", .string, .required)
            .field("hash", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "audit_object_idx").on("audit_log").column("object_type").column("object_id").run()
        try await sql.create(index: "audit_actor_idx").on("audit_log").column("actor_id").run()
        try await sql.create(index: "audit_at_idx").on("audit_log").column("at").run()
        if sql.dialect.name == "sqlite" {
            try await sql.raw("""
                CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
                """).run()
        } else {
            try await sql.raw("""
                CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
                """).run()
            try await sql.raw("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC, CURRENT_USER").run()
        }
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("audit_log").delete()
    }
}
