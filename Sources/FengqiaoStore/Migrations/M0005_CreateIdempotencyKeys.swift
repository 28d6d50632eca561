import FluentKit

/// Stored results of create requests sent with an `Idempotency-Key` header.
public struct M0005_CreateIdempotencyKeys: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("idempotency_keys")
            .id()
            .field("owner", .string, .required)
            .field("key", .string, .required)
            .field("request_hash", .string, .required)
            .field("status", .int)
            .field("content_type", .string)
            .field("body", .string)
            .field("location", .string)
            .field("created_at", .datetime, .required)
            .unique(on: "owner", "key")
            .create()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("idempotency_keys").delete()
    }
}
