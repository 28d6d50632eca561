import FluentKit
import SQLKit

/// 实有人口 (domain spec §3.1). The document number and the phone are stored only encrypted
/// (`*_enc`, `FieldCipher` AES-GCM with key id) beside their blind index (`*_idx`, keyed
/// HMAC-SHA-256) for exact search; there is no plaintext column for either (§7.1 PIPL Art. 51,
/// §7.2 数据保密性). `grid_id` repeats the grid of the residence address for scoped queries.
public struct M0009_CreateActualResidents: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("actual_residents")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("address_id", .uuid, .required, .references("standard_addresses", "id"))
            .field("population_type", .string, .required)
            .field("hukou_separated", .bool, .required)
            .field("id_doc_type", .string, .required)
            .field("id_number_enc", .string, .required)
            .field("id_number_idx", .string, .required)
            .field("id_number_legacy15", .bool, .required)
            .field("name", .string, .required)
            .field("sex", .string, .required)
            .field("birth_date", .string, .required)
            .field("ethnicity", .string)
            .field("hukou_address", .string)
            .field("residence_reason", .string, .required)
            .field("housing_relation", .string, .required)
            .field("employer", .string)
            .field("phone_enc", .string)
            .field("phone_idx", .string)
            .field("registered_at", .string, .required)
            .field("deregistered_at", .string)
            .field("deregistration_reason", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "residents_grid_idx").on("actual_residents").column("grid_id").run()
        try await sql.create(index: "residents_address_idx").on("actual_residents").column("address_id").run()
        try await sql.create(index: "residents_id_number_idx").on("actual_residents").column("id_number_idx").run()
        try await sql.create(index: "residents_phone_idx").on("actual_residents").column("phone_idx").run()
        try await sql.create(index: "residents_name_idx").on("actual_residents").column("name").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("actual_residents").delete()
    }
}
