import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit

/// A column value of a multi-row write, converted to each engine's form by `BulkInsert`. The
/// stored forms are those SQLKit's binds produce (SQLite: UUIDs as upper-case text, booleans as
/// 0/1, dates as seconds since 1970), so rows read the same whichever path wrote them.
enum BulkValue: Sendable {
    case text(String?)
    case uuid(UUID?)
    case bool(Bool)
    case date(Date)
    case int(Int?)

    var bind: any SQLExpression {
        switch self {
        case .text(let s): SQLBind(s)
        case .uuid(let u): SQLBind(u)
        case .bool(let b): SQLBind(b)
        case .date(let d): SQLBind(d)
        case .int(let i): SQLBind(i)
        }
    }

    var sqlite: SQLiteData {
        switch self {
        case .text(let s): s.map { .text($0) } ?? .null
        case .uuid(let u): u.map { .text($0.uuidString) } ?? .null
        case .bool(let b): .integer(b ? 1 : 0)
        case .date(let d): .float(d.timeIntervalSince1970)
        case .int(let i): i.map { .integer($0) } ?? .null
        }
    }

    /// The value in COPY text format before escaping; nil is NULL. Timestamps keep milliseconds.
    var copyText: String? {
        switch self {
        case .text(let s): s
        case .uuid(let u): u?.uuidString.lowercased()
        case .bool(let b): b ? "t" : "f"
        case .date(let d): d.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
        case .int(let i): i.map { String($0) }
        }
    }
}

/// Multi-row inserts for bulk writes (the 一标三实 import), inside the caller's `Store.write`.
/// Up to 50 rows: SQLKit `INSERT`s (logged with their binds like every other statement). More:
/// on PostgreSQL one `COPY … FROM STDIN` (the engine's own loader, through PostgresNIO); on SQLite
/// statements of 500 rows with values bound directly as `SQLiteData`, which spares SQLKit's
/// expression tree and Codable encoder (about a sixth of the import's CPU at a million rows).
enum BulkInsert {
    /// Set by `Store.write(bulk: true)`: SQLite statements are `INSERT OR ROLLBACK`, so a
    /// constraint failure ends the whole transaction (which the bulk writer then retries row by
    /// row) and SQLite keeps no statement journal for them.
    @TaskLocal static var inBulkTransaction = false

    /// - Parameter copy: whether COPY may be used; off where a value must round-trip exactly
    ///   (COPY's timestamps here keep milliseconds, and the audit chain hashes microseconds).
    static func insert(into table: String, columns: [String], rows: [[BulkValue]], copy: Bool = true, on db: any Database) async throws {
        guard !rows.isEmpty else { return }
        if rows.count > 50, copy, (db as? any SQLDatabase)?.dialect.name == "postgresql", let pg = db as? any PostgresDatabase {
            try await copyRows(into: table, columns: columns, rows: rows, pg: pg, logger: db.logger)
        } else if rows.count > 50, let sqlite = db as? any SQLiteDatabase {
            try await sqliteRows(into: table, columns: columns, rows: rows, sqlite: sqlite)
        } else {
            let sql = db as! any SQLDatabase
            for chunk in rows.chunked(500) {
                var q = sql.insert(into: table).columns(columns)
                for r in chunk { q = q.values(r.map(\.bind)) }
                try await q.run()
            }
        }
    }

    private static func sqliteRows(into table: String, columns: [String], rows: [[BulkValue]], sqlite: any SQLiteDatabase) async throws {
        let head = (inBulkTransaction ? "INSERT OR ROLLBACK INTO \"" : "INSERT INTO \"") + table + "\" (" + columns.map { "\"\($0)\"" }.joined(separator: ", ") + ") VALUES "
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        for chunk in rows.chunked(500) {
            var binds: [SQLiteData] = []
            binds.reserveCapacity(chunk.count * columns.count)
            for r in chunk {
                precondition(r.count == columns.count)
                binds.append(contentsOf: r.lazy.map(\.sqlite))
            }
            _ = try await sqlite.query(head + Array(repeating: tuple, count: chunk.count).joined(separator: ", "), binds)
        }
    }

    /// One COPY in text format, sent in chunks of about 1 MB; a failure fails the transaction.
    private static func copyRows(into table: String, columns: [String], rows: [[BulkValue]], pg: any PostgresDatabase, logger: Logger) async throws {
        try await pg.withConnection { conn in
            conn.eventLoop.makeFutureWithTask {
                try await conn.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                    for row in rows {
                        for (i, v) in row.enumerated() {
                            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                            if let t = v.copyText { escape(t, into: &buffer) } else { buffer.writeStaticString("\\N") }
                        }
                        buffer.writeInteger(UInt8(ascii: "\n"))
                        if buffer.readableBytes >= 1 << 20 {
                            try await writer.write(buffer)
                            buffer.clear()
                        }
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                }
            }
        }.get()
    }

    /// COPY text format: backslash, tab, newline and carriage return are escaped.
    private static func escape(_ s: String, into buffer: inout ByteBuffer) {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            default: buffer.writeInteger(b)
            }
        }
    }
}
