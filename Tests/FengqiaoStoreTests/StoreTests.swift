import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import SQLKit
import Testing

struct Boom: Error {}

@Suite("store", .serialized)
struct StoreTests {
    @Test("SQLite runs in WAL mode with foreign keys on")
    func pragmas() async throws {
        try await withStore { store in
            guard store.dialect == .sqlite else { return }
            let mode = try await store.sql.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
            #expect(mode == "wal")
            let fk = try await store.sql.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
            #expect(fk == 1)
            #expect(try await store.integrityCheck() == "ok")
        }
    }

    @Test("a write that throws leaves nothing behind")
    func rollback() async throws {
        try await withStore { store in
            let repo = TerritoryRepository()
            let s = PoliceStation(name: "A", divisionCode: "530481001")
            await #expect(throws: Boom.self) {
                try await store.write { db in
                    try await repo.save(s, on: db)
                    _ = try await AuditRepository().append(AuditDraft(action: .create, objectType: "police-station", objectID: s.id.uuidString), on: db)
                    throw Boom()
                }
            }
            let stations = try await PoliceStationModel.query(on: store.db).count()
            let audits = try await AuditRepository().count(on: store.db)
            #expect(stations == 0)
            #expect(audits == 0)
        }
    }

    @Test("foreign keys refuse a community under a missing station")
    func foreignKeys() async throws {
        try await withStore { store in
            let c = Community(stationID: UUID(), name: "X", townshipCode: "530481001", divisionCode12: nil)
            await #expect(throws: (any Error).self) {
                try await store.write { db in try await CommunityModel(c).create(on: db) }
            }
        }
    }

    @Test("concurrent audit appends form one unbroken chain")
    func concurrentAppends() async throws {
        try await withStore { store in
            let audit = AuditRepository()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        _ = try await store.write { db in
                            try await audit.append(AuditDraft(actorName: "t\(i)", action: .update, objectType: "x", objectID: "\(i)"), on: db)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await audit.count(on: store.db) == 40)
            #expect(try await audit.verify(on: store.db, pageSize: 7) == .intact(rows: 40))
        }
    }

    @Test("audit rows refuse UPDATE and DELETE; a tampered row is named by verify")
    func appendOnly() async throws {
        try await withStore { store in
            let audit = AuditRepository()
            for i in 1...5 {
                _ = try await store.write { db in try await audit.append(AuditDraft(action: .read, objectType: "x", objectID: "\(i)", detail: "row \(i)"), on: db) }
            }
            await #expect(throws: (any Error).self) { try await store.sql.raw("UPDATE audit_log SET detail = 'edited' WHERE seq = 3").run() }
            await #expect(throws: (any Error).self) { try await store.sql.raw("DELETE FROM audit_log WHERE seq = 5").run() }
            #expect(try await audit.verify(on: store.db) == .intact(rows: 5))
            // Someone with direct database access removes the protection and edits a row.
            if store.dialect == .sqlite {
                try await store.sql.raw("DROP TRIGGER audit_log_no_update").run()
            } else {
                try await store.sql.raw("GRANT UPDATE ON audit_log TO CURRENT_USER").run()
                try await store.sql.raw("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change").run()
            }
            try await store.sql.raw("UPDATE audit_log SET detail = 'edited' WHERE seq = 3").run()
            let verdict = try await audit.verify(on: store.db)
            guard case .broken(let seq, _) = verdict else { Issue.record("expected a broken chain, got \(verdict)"); return }
            #expect(seq == 3)
        }
    }

    @Test("audit list filters by object and hides the reader's own rows")
    func auditList() async throws {
        try await withStore { store in
            let audit = AuditRepository()
            let me = UUID(), other = UUID()
            for (actor, role, obj) in [(me, "audit-admin", "a"), (other, "grid-worker", "a"), (other, "grid-worker", "b"), (UUID(), "audit-admin", "a")] {
                _ = try await store.write { db in try await audit.append(AuditDraft(actorID: actor, actorRole: role, action: .read, objectType: "person", objectID: obj), on: db) }
            }
            var q = AuditQuery(objectType: "person", objectID: "a")
            q.excludeActorID = me
            q.actorRoleIsNot = "audit-admin"
            let rows = try await audit.list(q, on: store.db)
            #expect(rows.count == 1)
            #expect(rows.first?.actorID == other)
        }
    }

    @Test("VACUUM INTO writes a consistent, openable copy")
    func backup() async throws {
        try await withStore { store in
            guard store.dialect == .sqlite else { return }
            _ = try await store.write { db in try await AuditRepository().append(AuditDraft(action: .create, objectType: "x"), on: db) }
            let dest = FileManager.default.temporaryDirectory.appendingPathComponent("fq-backup-\(UUID().uuidString).sqlite").path
            try await store.backup(to: dest)
            defer { try? FileManager.default.removeItem(atPath: dest) }
            let size = (try FileManager.default.attributesOfItem(atPath: dest)[.size] as? Int) ?? 0
            #expect(size > 4096)
            let header = FileManager.default.contents(atPath: dest)?.prefix(15)
            #expect(header.map { String(decoding: $0, as: UTF8.self) } == "SQLite format 3")
        }
    }

    @Test("libpq URL for pg_dump from a Unix-socket URL")
    func libpqURL() {
        #expect(Store.libpqURL("postgres+uds://fengqiao@localhost/tmp/pg/.s.PGSQL.5432#fq") == "postgresql://fengqiao@/fq?host=/tmp/pg")
        #expect(Store.libpqURL("postgres://u:p@h/db") == "postgres://u:p@h/db")
    }

    @Test("territory scope resolves to the right grids")
    func scopes() async throws {
        try await withStore { store in
            let repo = TerritoryRepository()
            let s = PoliceStation(name: "S", divisionCode: "530481001")
            let c1 = Community(stationID: s.id, name: "C1", townshipCode: "530481001", divisionCode12: nil)
            let c2 = Community(stationID: s.id, name: "C2", townshipCode: "530481001", divisionCode12: nil)
            let g1 = Grid(communityID: c1.id, residentialGroupID: nil, code: "G1", name: "g1", kind: .basic, polygon: nil)
            let g2 = Grid(communityID: c1.id, residentialGroupID: nil, code: "G2", name: "g2", kind: .basic, polygon: nil)
            let g3 = Grid(communityID: c2.id, residentialGroupID: nil, code: "G3", name: "g3", kind: .basic, polygon: nil)
            try await store.write { db in
                try await repo.save(s, on: db)
                try await repo.save(c1, on: db)
                try await repo.save(c2, on: db)
                for g in [g1, g2, g3] { try await repo.save(g, on: db) }
            }
            let grid = try await repo.visible(for: TerritoryScope(level: .grid, territoryID: g1.id), on: store.db)
            #expect(grid.gridIDs == [g1.id])
            #expect(!grid.owns(territoryID: c1.id))
            let comm = try await repo.visible(for: TerritoryScope(level: .community, territoryID: c1.id), on: store.db)
            #expect(comm.gridIDs == [g1.id, g2.id])
            #expect(comm.owns(territoryID: c1.id) && !comm.owns(territoryID: s.id) && !comm.owns(territoryID: g3.id))
            let station = try await repo.visible(for: TerritoryScope(level: .station, territoryID: s.id), on: store.db)
            #expect(station.gridIDs == [g1.id, g2.id, g3.id])
            #expect(station.owns(territoryID: s.id))
            await #expect(throws: DomainError.notFound(kind: "grid")) { try await repo.grid(g3.id, visible: comm, on: store.db) }
            await #expect(throws: DomainError.conflict(field: "code", reason: "grid code G1 is already used")) {
                try await store.write { db in try await repo.save(Grid(communityID: c1.id, residentialGroupID: nil, code: "G1", name: "dup", kind: .basic, polygon: nil), on: db) }
            }
        }
    }

    @Test("writers take turns in arrival order; a waiting writer is visible to a bulk transaction; a bulk write leaves foreign keys on")
    func writeTurns() async throws {
        try await withStore { store in
            final class Order: @unchecked Sendable { let lock = NSLock(); var names: [String] = [] }
            let order = Order()
            let first = Task {
                try await store.write(bulk: true) { _ in
                    order.lock.withLock { order.names.append("bulk") }
                    try await Task.sleep(for: .milliseconds(300))
                    // The second writer has queued meanwhile (on SQLite).
                    return await store.writersWaiting()
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            let second = Task { try await store.write { _ in order.lock.withLock { order.names.append("second") } } }
            try await Task.sleep(for: .milliseconds(50))
            let third = Task { try await store.write { _ in order.lock.withLock { order.names.append("third") } } }
            let sawWaiting = try await first.value
            try await second.value
            try await third.value
            #expect(order.lock.withLock { order.names } == ["bulk", "second", "third"])
            #expect(sawWaiting == (store.dialect == .sqlite))
            #expect(await store.writersWaiting() == false)
            if store.dialect == .sqlite {
                for _ in 0..<4 {
                    let fk = try await store.write { db in
                        try await (db as! any SQLDatabase).raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
                    }
                    #expect(fk == 1)
                }
            }
        }
    }
}
