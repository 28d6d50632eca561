import FluentKit
import FluentSQLiteDriver
import Foundation

/// Multi-row `INSERT`s on SQLite with the values bound directly as `SQLiteData`, for the bulk
/// import: SQLKit's expression tree and Codable encoder cost about a sixth of the import's CPU
/// at a million rows. Values are stored exactly as SQLKit stores them (UUIDs as upper-case
/// text, booleans as 0/1, dates as seconds since 1970), so either path reads the other's rows.
enum SQLiteBulk {
    /// Whether `db` is SQLite.
    static func available(on db: any Database) -> Bool { db is any SQLiteDatabase }

    /// Inserts `rows` (each `columns.count` values) in statements of at most 500 rows.
    static func insert(into table: String, columns: [String], rows: [[SQLiteData]], on db: any Database) async throws {
        guard let sqlite = db as? any SQLiteDatabase else { preconditionFailure("SQLiteBulk needs SQLite") }
        let head = "INSERT INTO \"\(table)\" (" + columns.map { "\"\($0)\"" }.joined(separator: ", ") + ") VALUES "
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var start = 0
        while start < rows.count {
            let end = min(start + 500, rows.count)
            let sql = head + Array(repeating: tuple, count: end - start).joined(separator: ", ")
            var binds: [SQLiteData] = []
            binds.reserveCapacity((end - start) * columns.count)
            for r in rows[start..<end] {
                precondition(r.count == columns.count)
                binds.append(contentsOf: r)
            }
            _ = try await sqlite.query(sql, binds)
            start = end
        }
    }

    static func text(_ s: String?) -> SQLiteData { s.map { .text($0) } ?? .null }
    static func uuid(_ u: UUID?) -> SQLiteData { u.map { .text($0.uuidString) } ?? .null }
    static func bool(_ b: Bool) -> SQLiteData { .integer(b ? 1 : 0) }
    static func date(_ d: Date) -> SQLiteData { .float(d.timeIntervalSince1970) }
}
