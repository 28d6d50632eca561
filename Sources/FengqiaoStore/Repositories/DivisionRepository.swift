import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// One row of the division table (行政区划): code, name, level and parent.
public struct DivisionRecord: Sendable, Hashable {
    /// 6-digit GB/T 2260 code or 9-digit township code.
    public var code: String
    public var name: String
    public var level: DivisionCode.Level
    /// The parent's code; `nil` for a province.
    public var parentCode: String?
    /// Whether the code no longer exists (kept for ID-number address codes and legacy records).
    public var historic: Bool

    public init(code: String, name: String, level: DivisionCode.Level, parentCode: String?, historic: Bool = false) {
        self.code = code
        self.name = name
        self.level = level
        self.parentCode = parentCode
        self.historic = historic
    }
}

/// What a bulk write did.
public struct DivisionWriteResult: Sendable, Equatable {
    /// Distinct codes given.
    public var rows: Int
    /// Rows that were not in the table before.
    public var inserted: Int
    /// Rows given that already existed (updated for a current import, left alone for a historic one).
    public var existing: Int { rows - inserted }

    public init(rows: Int, inserted: Int) {
        self.rows = rows
        self.inserted = inserted
    }
}

/// Bulk writes and reads of the division table through SQLKit (tens of thousands of rows; Fluent
/// models would be far slower). Runs unchanged on SQLite (≥ 3.24, `ON CONFLICT … DO UPDATE`) and
/// PostgreSQL. Call the writes inside one `Store.write` so an import commits or rolls back whole.
public struct DivisionRepository: Sendable {
    /// Rows per `INSERT` statement: 1,000 rows × 4 binds stays far below SQLite's 32,766 and
    /// PostgreSQL's 65,535 bind limits.
    public static let chunkSize = 1_000

    public init() {}

    /// Inserts current divisions, or updates name, level and parent of those already present
    /// (a historic row with the same code becomes current again).
    public func upsert(_ rows: [DivisionRecord], on db: any Database) async throws -> DivisionWriteResult {
        let sql = db as! any SQLDatabase
        let before = try await count(on: db)
        for chunk in Self.chunks(rows) {
            try await insert(chunk, historic: false, on: sql)
                .onConflict(with: ["code"]) {
                    $0.set(excludedValueOf: "name")
                        .set(excludedValueOf: "level")
                        .set(excludedValueOf: "parent_code")
                        .set(excludedValueOf: "historic")
                }
                .run()
        }
        return DivisionWriteResult(rows: Set(rows.map(\.code)).count, inserted: try await count(on: db) - before)
    }

    /// Inserts divisions that no longer exist, marked historic. A code already in the table as a
    /// current division is never overwritten; an existing historic row gets the new name.
    public func addHistoric(_ rows: [DivisionRecord], on db: any Database) async throws -> DivisionWriteResult {
        let sql = db as! any SQLDatabase
        let before = try await count(on: db)
        for chunk in Self.chunks(rows) {
            try await insert(chunk, historic: true, on: sql)
                .onConflict(with: ["code"]) {
                    $0.set(excludedValueOf: "name")
                        .where(SQLColumn("historic", table: "divisions"), .equal, SQLLiteral.boolean(true))
                }
                .run()
        }
        return DivisionWriteResult(rows: Set(rows.map(\.code)).count, inserted: try await count(on: db) - before)
    }

    /// Number of rows; only current ones (`historic: false`), only historic ones (`true`) or all (`nil`).
    public func count(historic: Bool? = nil, on db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        var q = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("divisions")
        if let historic { q = q.where("historic", .equal, SQLLiteral.boolean(historic)) }
        return try await q.first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The row with this code, current or historic.
    public func find(_ code: String, on db: any Database) async throws -> DivisionRecord? {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns("code", "name", "level", "parent_code", "historic")
            .from("divisions").where("code", .equal, code).first()
        else { return nil }
        let level = try row.decode(column: "level", as: String.self)
        return DivisionRecord(
            code: try row.decode(column: "code", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            level: DivisionCode.Level(rawValue: level) ?? .county,
            parentCode: try row.decode(column: "parent_code", as: String?.self),
            historic: try row.decode(column: "historic", as: Bool.self))
    }

    private func insert(_ chunk: ArraySlice<DivisionRecord>, historic: Bool, on sql: any SQLDatabase) -> SQLInsertBuilder {
        let builder = sql.insert(into: "divisions").columns("code", "name", "level", "parent_code", "historic")
        for r in chunk {
            builder.values([
                SQLBind(r.code), SQLBind(r.name), SQLBind(r.level.rawValue), SQLBind(r.parentCode),
                SQLLiteral.boolean(historic),
            ] as [any SQLExpression])
        }
        return builder
    }

    /// Splits into statements of at most `chunkSize` rows, one row per code (the last wins):
    /// PostgreSQL refuses an `ON CONFLICT DO UPDATE` that touches the same row twice.
    private static func chunks(_ rows: [DivisionRecord]) -> [ArraySlice<DivisionRecord>] {
        var seen = Set<String>()
        let unique = Array(rows.reversed().filter { seen.insert($0.code).inserted }.reversed())
        return stride(from: 0, to: unique.count, by: chunkSize).map { unique[$0..<min($0 + chunkSize, unique.count)] }
    }
}
