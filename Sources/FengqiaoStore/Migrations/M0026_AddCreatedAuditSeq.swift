import FluentKit
import SQLKit

/// Adds `created_audit_seq` to actual residents and standard addresses: the `audit_log.seq` of the
/// record that created the row when it was created by a bulk import, which writes one audit record
/// per batch (its detail counts the rows and carries a SHA-256 over their ids) instead of one per
/// row. `AuditRepository.list` follows the link, so a person's or an address's history still
/// shows the import that created it (domain spec §7.3: "list who looked at a given person").
/// Null for rows created one at a time, which have their own audit record. Not indexed: it is
/// only read through the row's primary key.
public struct M0026_AddCreatedAuditSeq: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.alter(table: "actual_residents").column("created_audit_seq", type: .bigint).run()
        try await sql.alter(table: "standard_addresses").column("created_audit_seq", type: .bigint).run()
    }
    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.alter(table: "actual_residents").dropColumn("created_audit_seq").run()
        try await sql.alter(table: "standard_addresses").dropColumn("created_audit_seq").run()
    }
}
