import FluentKit

/// Keeps the English text of an import issue's reason next to the Chinese one
/// (`import_job_issues.reason_en`): the error file and the Chinese import page show `reason`
/// (Chinese, for grid workers), the English page shows `reason_en`. Null for issues stored
/// before this migration (their `reason` is English).
public struct M0035_AddImportIssueEnglishReason: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("import_job_issues").field("reason_en", .string).update()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("import_job_issues").deleteField("reason_en").update()
    }
}
