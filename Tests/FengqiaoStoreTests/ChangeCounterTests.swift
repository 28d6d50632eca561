@testable import FengqiaoStore
import FengqiaoCore
import FluentKit
import Foundation
import SQLKit
import Testing

/// M0029's change counters: seeded for each counted table, kept by a rolled-back transaction,
/// maintained by triggers on both engines (a real dispute update moving the counter is asserted
/// through HTTP in `DisputeStatisticsTests.reportCache`); `UUID(storedText:)` reads the text
/// form SQLite stores.
@Suite("change counters and stored UUID text")
struct ChangeCounterTests {
    @Test("counters exist for each counted table, never go down, and a rolled-back transaction leaves them")
    func countersFollowCommits() async throws {
        try await withStore { store in
            let repo = DisputeStatisticsRepository()
            let sql = store.db as! any SQLDatabase
            let before = try await repo.changeCounters(on: store.db)
            #expect(before.count == M0029_CreateChangeCounters.tables.count && before.allSatisfy { $0 >= 0 })
            // A statement that changes nothing still counts on PostgreSQL (statement trigger), never less.
            try await sql.raw("UPDATE disputes SET summary = summary WHERE 1 = 0").run()
            let afterNoop = try await repo.changeCounters(on: store.db)
            #expect(afterNoop[0] >= before[0])
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await store.write { db in
                    try await (db as! any SQLDatabase).raw("UPDATE change_counters SET value = value + 100 WHERE name = 'disputes'").run()
                    throw Boom()
                }
            }
            #expect(try await repo.changeCounters(on: store.db)[0] == afterNoop[0], "a rolled-back transaction leaves the counter")
            try await sql.raw("UPDATE police_incidents SET is_repeat = is_repeat").run()
            try await sql.raw("DELETE FROM dispute_mediators WHERE 1 = 0").run()
            let after = try await repo.changeCounters(on: store.db)
            #expect(after[0] == afterNoop[0])
            #expect(after[1] >= before[1] && after[2] >= before[2])
        }
    }

    @Test("the triggers exist: three per table on SQLite (insert, update, delete), one statement trigger per table on PostgreSQL")
    func triggerOnRealRow() async throws {
        try await withStore { store in
            let repo = DisputeStatisticsRepository()
            let sql = store.db as! any SQLDatabase
            let c0 = try await repo.changeCounters(on: store.db)
            let triggers = try await sql.raw(sql.dialect.name == "postgresql"
                ? "SELECT tgname AS n FROM pg_trigger WHERE tgname LIKE '%_changed'"
                : "SELECT name AS n FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_changed_%'").all().map { try $0.decode(column: "n", as: String.self) }
            #expect(triggers.count == (sql.dialect.name == "postgresql" ? 3 : 9), "\(triggers)")
            #expect(try await repo.changeCounters(on: store.db) == c0)
        }
    }

    @Test("UUID(storedText:) reads upper- and lower-case canonical text and refuses anything else")
    func storedText() {
        for _ in 0..<200 {
            let u = UUID()
            #expect(UUID(storedText: u.uuidString) == u)
            #expect(UUID(storedText: u.uuidString.lowercased()) == u)
        }
        for bad in ["", "not-a-uuid", "0000000000000000000000000000000000000", "00000000-0000-0000-0000-00000000000g",
                    "00000000_0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}", "00000000-0000-0000-0000-0000000000000"] {
            #expect(UUID(storedText: bad) == nil, "\(bad)")
        }
    }
}
