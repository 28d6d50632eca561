import FluentKit
import FluentPostgresDriver
import Foundation
import SQLKit

/// Bulk loading through PostgreSQL's `COPY … FROM STDIN` (text format), the engine's own loader,
/// for the bulk import of 一标三实 records. Call inside `Store.write`: the rows join the caller's
/// transaction (a failed batch leaves nothing).
enum BulkCopy {
    /// A value in a COPY row: text (escaped here) or NULL.
    typealias Value = String?

    /// Whether `db` is PostgreSQL (COPY is available); SQLite callers use multi-row INSERTs.
    static func available(on db: any Database) -> Bool {
        (db as? any SQLDatabase)?.dialect.name == "postgresql" && db is any PostgresDatabase
    }

    /// Streams `rows` into `table` (`columns` in order) with one COPY, in chunks of about 1 MB.
    /// - Throws: the server's error (constraint, type) — the whole COPY fails, as does the
    ///   surrounding transaction.
    static func copy(into table: String, columns: [String], rows: [[Value]], on db: any Database) async throws {
        guard let pg = db as? any PostgresDatabase else { preconditionFailure("COPY needs PostgreSQL") }
        let logger = db.logger
        try await pg.withConnection { conn in
            conn.eventLoop.makeFutureWithTask {
                try await conn.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                    for row in rows {
                        for (i, v) in row.enumerated() {
                            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                            if let v { Self.escape(v, into: &buffer) } else { buffer.writeStaticString("\\N") }
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
    static func escape(_ s: String, into buffer: inout ByteBuffer) {
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

    /// A timestamp in the form `timestamptz` reads (UTC, microseconds).
    static func timestamp(_ d: Date) -> String {
        let f = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        return d.formatted(f)
    }

    static func bool(_ b: Bool) -> String { b ? "t" : "f" }
    static func uuid(_ u: UUID?) -> String? { u?.uuidString.lowercased() }
}
