import FluentKit
import SQLKit

/// Change counters: one row per table whose aggregates are cached (`change_counters (name,
/// value)`), bumped by a trigger on every insert, update and delete of that table, in the
/// writing transaction. A cache keyed by the counters therefore sees every committed change, from
/// any code path and any server instance sharing the database, and never a change before its
/// data is visible (the counter commits with it).
///
/// Counted tables: `disputes`, `police_incidents` and `dispute_mediators`, the inputs of the
/// dispute statistics (issue 4). SQLite: row-level triggers (SQLite has no statement-level ones);
/// PostgreSQL: one statement-level trigger per table through `fengqiao_bump_change_counter()`.
public struct M0029_CreateChangeCounters: AsyncMigration {
    public static let tables = ["disputes", "police_incidents", "dispute_mediators"]

    public init() {}

    public func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema("change_counters")
            .field("name", .string, .identifier(auto: false))
            .field("value", .int64, .required)
            .create()
        for t in Self.tables {
            try await sql.raw("INSERT INTO change_counters (name, value) VALUES (\(bind: t), 0)").run()
        }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE FUNCTION fengqiao_bump_change_counter() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  UPDATE change_counters SET value = value + 1 WHERE name = TG_TABLE_NAME;
                  RETURN NULL;
                END $$
                """).run()
            for t in Self.tables {
                try await sql.raw("""
                    CREATE TRIGGER \(unsafeRaw: t)_changed AFTER INSERT OR UPDATE OR DELETE ON \(unsafeRaw: t)
                    FOR EACH STATEMENT EXECUTE FUNCTION fengqiao_bump_change_counter()
                    """).run()
            }
        } else {
            for t in Self.tables {
                for op in ["INSERT", "UPDATE", "DELETE"] {
                    try await sql.raw("""
                        CREATE TRIGGER \(unsafeRaw: t)_changed_\(unsafeRaw: op.lowercased()) AFTER \(unsafeRaw: op) ON \(unsafeRaw: t)
                        BEGIN UPDATE change_counters SET value = value + 1 WHERE name = '\(unsafeRaw: t)'; END
                        """).run()
                }
            }
        }
    }

    public func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        if sql.dialect.name == "postgresql" {
            for t in Self.tables { try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: t)_changed ON \(unsafeRaw: t)").run() }
            try await sql.raw("DROP FUNCTION IF EXISTS fengqiao_bump_change_counter()").run()
        } else {
            for t in Self.tables {
                for op in ["insert", "update", "delete"] { try await sql.raw("DROP TRIGGER IF EXISTS \(unsafeRaw: t)_changed_\(unsafeRaw: op)").run() }
            }
        }
        try await database.schema("change_counters").delete()
    }
}
