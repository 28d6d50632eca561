import FluentKit
import SQLKit

/// Indexes for the dispute statistics, the dispute list of a community and the work lists
/// (issue 4 performance: 100,000 disputes, p99 < 50 ms at 16 clients).
/// * `disputes_community_time_idx (community_id, registered_at, id)`: a community's list newest
///   first, read in index order with `LIMIT` (no sort of the community's rows), keyset pages by
///   `(registered_at, id)`.
/// * `disputes_grid_time_idx (grid_id, registered_at, id)`: the same for a grid worker.
/// * `disputes_stats_idx (community_id, registered_at, grid_id, state, category, source,
///   risk_grade, level, settled_level, civil_to_criminal_risk, level_due_at, effective_on)`:
///   covers every column the statistics read, so the aggregates of a community and period are
///   answered from the index alone (SQLite "USING COVERING INDEX"; PostgreSQL index-only scans).
/// No data changes; reverting drops the indexes.
public struct M0025_AddDisputeStatisticsIndexes: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.create(index: "disputes_community_time_idx").on("disputes").column("community_id").column("registered_at").column("id").run()
        try await sql.create(index: "disputes_grid_time_idx").on("disputes").column("grid_id").column("registered_at").column("id").run()
        var stats = sql.create(index: "disputes_stats_idx").on("disputes")
        for c in Self.statsColumns { stats = stats.column(c) }
        try await stats.run()
    }

    /// The columns of the covering statistics index, in order.
    public static let statsColumns = [
        "community_id", "registered_at", "grid_id", "state", "category", "source", "risk_grade", "level", "settled_level",
        "civil_to_criminal_risk", "level_due_at", "effective_on",
    ]

    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        for i in ["disputes_stats_idx", "disputes_grid_time_idx", "disputes_community_time_idx"] { try await sql.drop(index: i).run() }
    }
}
