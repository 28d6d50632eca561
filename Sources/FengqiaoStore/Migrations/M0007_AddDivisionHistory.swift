import FluentKit
import SQLKit

/// Marks divisions that no longer exist (撤销或改码的区划), so the table can hold every code that
/// ever existed, for checking the address codes of ID numbers and legacy records (domain spec
/// §2.2, §5.2), beside the current ones. Existing rows are current (`historic = false`).
public struct M0007_AddDivisionHistory: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        // The same statement on SQLite (≥ 3.23 reads TRUE/FALSE) and PostgreSQL.
        try await (database as! any SQLDatabase)
            .raw("ALTER TABLE divisions ADD COLUMN historic BOOLEAN NOT NULL DEFAULT FALSE").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("divisions").deleteField("historic").update()
    }
}
