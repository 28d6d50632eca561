import FluentKit
import SQLKit

/// The records one audit entry names (`audit_subjects`): a search or list shown to a user is one
/// `read` entry (hash-chained, its detail carrying a SHA-256 over the sorted ids) with one row
/// here per record shown, so "who looked at this person" still finds it (domain spec §7.3)
/// while a page of 20 residents costs one chained entry instead of 20. Append-only like the
/// audit log: triggers on SQLite, revoked rights on PostgreSQL.
public struct M0033_CreateAuditSubjects: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("audit_subjects")
            .field("seq", .int64, .required)
            .field("object_type", .string, .required)
            .field("object_id", .string, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "audit_subjects_object_idx").on("audit_subjects").column("object_type").column("object_id").column("seq").run()
        if sql.dialect.name == "sqlite" {
            try await sql.raw("""
                CREATE TRIGGER audit_subjects_no_update BEFORE UPDATE ON audit_subjects
                BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_subjects_no_delete BEFORE DELETE ON audit_subjects
                BEGIN SELECT RAISE(ABORT, 'audit_subjects is append-only'); END
                """).run()
        } else {
            try await sql.raw("REVOKE UPDATE, DELETE, TRUNCATE ON audit_subjects FROM PUBLIC, CURRENT_USER").run()
        }
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("audit_subjects").delete()
    }
}
