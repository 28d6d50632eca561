import FluentKit
import SQLKit

/// Name-prefix search answered from the index (issue 3, search by name within the user's
/// territory): on SQLite `residents_name_id_idx (name, id)` becomes `(name, id, grid_id)`.
///
/// The search counts every resident whose name starts with the prefix in the visible grids and
/// pages them by name. With the grid in the index, both the count and the territory test read
/// only index entries; before, each match cost a lookup of its table row (at 1,000,000 residents
/// a two-character prefix matched ~200 rows, and a commit by another request — every search
/// writes its audit record — empties the readers' page cache, so those lookups went back to the
/// file each time). PostgreSQL keeps its `text_pattern_ops` index for `LIKE` and gains nothing
/// from the wider one, so it is left as it is.
public struct M0031_CoverNameSearch: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "sqlite" else { return }
        try await sql.drop(index: "residents_name_id_idx").run()
        try await sql.create(index: "residents_name_id_idx").on("actual_residents").column("name").column("id").column("grid_id").run()
    }
    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.dialect.name == "sqlite" else { return }
        try await sql.drop(index: "residents_name_id_idx").run()
        try await sql.create(index: "residents_name_id_idx").on("actual_residents").column("name").column("id").run()
    }
}
