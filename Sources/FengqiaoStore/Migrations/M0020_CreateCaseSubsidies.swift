import FluentKit
import SQLKit

/// Per-case subsidy ledger (一事一案一补, domain spec §4.4): the tariff table versioned by effective
/// date and the claims. `(case_type, case_id)` is unique (one subsidy per case); money is integer
/// fen; `amount_fen` on a claim is fixed at approval and never recomputed.
public struct M0020_CreateCaseSubsidies: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("subsidy_tariffs")
            .id()
            .field("case_type", .string, .required)
            .field("category", .string)
            .field("effective_from", .string, .required)
            .field("amount_fen", .int64, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("subsidy_claims")
            .id()
            .field("case_type", .string, .required)
            .field("case_id", .uuid, .required)
            .field("grid_id", .uuid, .required, .references("grids", "id"))
            .field("claimant_id", .uuid, .required, .references("users", "id"))
            .field("state", .string, .required)
            .field("reviewer_id", .uuid)
            .field("amount_fen", .int64)
            .field("review_note", .string)
            .field("created_at", .datetime, .required)
            .field("decided_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "subsidy_claims_case_uq").on("subsidy_claims").column("case_type").column("case_id").unique().run()
        try await sql.create(index: "subsidy_claims_claimant_idx").on("subsidy_claims").column("claimant_id").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("subsidy_claims").delete()
        try await database.schema("subsidy_tariffs").delete()
    }
}
