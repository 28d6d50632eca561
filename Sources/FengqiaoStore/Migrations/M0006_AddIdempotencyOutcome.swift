import FluentKit

/// Records, inside the business transaction, that an idempotent request's effect committed and
/// which record it created, so a retry after a crash between commit and the stored answer
/// replays instead of creating the record twice.
public struct M0006_AddIdempotencyOutcome: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("idempotency_keys").field("applied_at", .datetime).update()
        try await database.schema("idempotency_keys").field("object_type", .string).update()
        try await database.schema("idempotency_keys").field("object_id", .string).update()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("idempotency_keys").deleteField("object_id").update()
        try await database.schema("idempotency_keys").deleteField("object_type").update()
        try await database.schema("idempotency_keys").deleteField("applied_at").update()
    }
}
