import FluentKit
import SQLKit

/// 实有单位 (domain spec §3.1). The 统一社会信用代码 (§5.3) identifies an organisation, not a
/// person, and is stored in clear; it is unique among active organisations (a partial unique
/// index, so a closed organisation's code may be registered again). The legal representative's
/// document number and the phones are stored only encrypted beside blind indexes (§7.1 PIPL
/// Art. 51, §7.2). `licences` is a JSON array of `{kind, number}`. `grid_id` repeats the grid of
/// the address for scoped queries.
public struct M0011_CreateActualOrganizations: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("actual_organizations")
            .id()
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("address_id", .uuid, .required, .references("standard_addresses", "id"))
            .field("uscc", .string, .required)
            .field("uscc_check_confirmed", .bool, .required)
            .field("name", .string, .required)
            .field("org_type", .string, .required)
            .field("industry_section", .string)
            .field("industry_code", .string)
            .field("legal_rep_name", .string, .required)
            .field("legal_rep_id_doc_type", .string)
            .field("legal_rep_id_number_enc", .string)
            .field("legal_rep_id_number_idx", .string)
            .field("legal_rep_phone_enc", .string)
            .field("legal_rep_phone_idx", .string)
            .field("security_contact_name", .string)
            .field("security_contact_phone_enc", .string)
            .field("employee_count", .int)
            .field("key_unit", .bool, .required)
            .field("special_trade", .string)
            .field("licences", .string, .required)
            .field("status", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let sql = database as! any SQLDatabase
        // Partial unique index: the same SQL on SQLite and PostgreSQL.
        try await sql.raw("CREATE UNIQUE INDEX organizations_uscc_active_uq ON actual_organizations (uscc) WHERE status = 'active'").run()
        try await sql.create(index: "organizations_uscc_idx").on("actual_organizations").column("uscc").run()
        try await sql.create(index: "organizations_grid_idx").on("actual_organizations").column("grid_id").run()
        try await sql.create(index: "organizations_name_idx").on("actual_organizations").column("name").run()
        try await sql.create(index: "organizations_legal_rep_id_idx").on("actual_organizations").column("legal_rep_id_number_idx").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("actual_organizations").delete()
    }
}
