import FluentKit

/// 核采 (verification) state on actual residents and standard addresses (domain spec §3.1, §8):
/// when the record was last verified on site (`verified_at`, UTC), by which account
/// (`verified_by`, with its username at the time in `verified_by_name`) and with what outcome
/// (`verification_outcome`: `verified`, `changed`, `movedOut`). All empty for a record never
/// verified since it was collected; its period then runs from `created_at`.
public struct M0012_AddVerificationState: AsyncMigration {
    public init() {}

    static let tables = ["actual_residents", "standard_addresses"]

    public func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
        for table in Self.tables {
            try await database.schema(table).field("verified_at", .datetime).update()
            try await database.schema(table).field("verified_by", .uuid).update()
            try await database.schema(table).field("verified_by_name", .string).update()
            try await database.schema(table).field("verification_outcome", .string).update()
        }
    }

    public func revert(on database: any Database) async throws {
        for table in Self.tables {
            for column in ["verification_outcome", "verified_by_name", "verified_by", "verified_at"] {
                try await database.schema(table).deleteField(.string(column)).update()
            }
        }
    }
}
