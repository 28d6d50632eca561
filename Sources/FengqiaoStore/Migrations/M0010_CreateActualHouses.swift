import FluentKit
import SQLKit

/// 实有房屋 (domain spec §3.1): one row per house at a standard address, and its tenants when
/// rented. Owner and tenant document numbers and phones are stored only encrypted (`*_enc`,
/// `FieldCipher` AES-GCM with key id) beside their blind index (`*_idx`, keyed HMAC-SHA-256) for
/// exact search; there is no plaintext column for either (§7.1 PIPL Art. 51, §7.2 数据保密性).
/// `grid_id` repeats the grid of the address for scoped queries. A house code is unique per
/// address. The area is kept in hundredths of a square metre (2 dp, §3.1).
public struct M0010_CreateActualHouses: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("actual_houses")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("address_id", .uuid, .required, .references("standard_addresses", "id"))
            .field("house_code", .string, .required)
            .field("house_use", .string, .required)
            .field("area_hundredths", .int64)
            .field("ownership_cert_type", .string)
            .field("ownership_cert_no", .string)
            .field("owner_name", .string, .required)
            .field("owner_id_doc_type", .string)
            .field("owner_id_number_enc", .string)
            .field("owner_id_number_idx", .string)
            .field("owner_phone_enc", .string)
            .field("owner_phone_idx", .string)
            .field("owner_current_address", .string)
            .field("occupancy", .string, .required)
            .field("rental_purpose", .string)
            .field("lease_start", .string)
            .field("lease_end", .string)
            .field("group_rental", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "houses_address_code_uq").on("actual_houses").column("address_id").column("house_code").unique().run()
        try await sql.create(index: "houses_grid_idx").on("actual_houses").column("grid_id").run()
        try await sql.create(index: "houses_owner_id_number_idx").on("actual_houses").column("owner_id_number_idx").run()
        try await sql.create(index: "houses_owner_phone_idx").on("actual_houses").column("owner_phone_idx").run()

        try await database.schema("house_tenants")
            .id()
            .field("house_id", .uuid, .required, .references("actual_houses", "id", onDelete: .cascade))
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("position", .int, .required)
            .field("name", .string, .required)
            .field("id_doc_type", .string, .required)
            .field("id_number_enc", .string, .required)
            .field("id_number_idx", .string, .required)
            .field("phone_enc", .string)
            .field("phone_idx", .string)
            .field("resident_id", .uuid, .references("actual_residents", "id"))
            .field("created_at", .datetime, .required)
            .create()
        try await sql.create(index: "house_tenants_house_idx").on("house_tenants").column("house_id").run()
        try await sql.create(index: "house_tenants_id_number_idx").on("house_tenants").column("id_number_idx").run()
        try await sql.create(index: "house_tenants_phone_idx").on("house_tenants").column("phone_idx").run()
        try await sql.create(index: "house_tenants_resident_idx").on("house_tenants").column("resident_id").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("house_tenants").delete()
        try await database.schema("actual_houses").delete()
    }
}
