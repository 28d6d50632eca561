import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Crypto
import Foundation
import SQLKit
import Testing
import Vapor

/// Bulk import of addresses and residents (issue 3, Import): good rows kept, bad rows reported
/// with line and column, no duplicates on re-import, dry run and bad files write nothing.
@Suite("population import", .serialized)
struct PopulationImportTests {
    static func id(_ seq: Int, check: Character? = nil) -> String {
        let first17 = "530481\(1990 + seq / 1000)0101" + String(format: "%03d", seq % 1000)
        return first17 + String(check ?? CitizenIDNumber.checkCharacter(forFirst17: first17)!)
    }

    static let header = "姓名,证件号码,人口类型,居住事由,与住所关系,联系电话,网格编码,街路巷,门牌号,楼栋,单元,楼层,户室号\r\n"

    static func row(_ name: String, _ idNumber: String, phone: String = "13900139000", grid: String, room: String = "201") -> String {
        "\(name),\(idNumber),流动,务工,租赁,\(phone),\(grid),凤麓路,3号,1,1,2,\(room)\r\n"
    }

    static func file(_ text: String, bom: Bool = true) throws -> URL {
        try ImportFixtures.temporaryFile((bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8))
    }

    static func counts(_ app: Application) async throws -> (residents: Int, addresses: Int) {
        let svc = PopulationService(app.fengqiao)
        let r = try await svc.residents(try PopulationService.SearchInput().query(), visible: .everything).1
        let a = try await svc.addresses(gridID: nil, visible: .everything, limit: 500, offset: 0).1
        return (r, a)
    }

    static func importResidents(_ app: Application, _ url: URL, dryRun: Bool = false, gridCode: String? = nil, batchRows: Int = PopulationImportService.batchSize) async throws -> PopulationImportService.Report {
        try await PopulationImportService(app.fengqiao).importResidents(
            fileAt: url, options: .init(gridCode: gridCode, dryRun: dryRun, batchRows: batchRows), actor: .commandLine(), visible: .everything)
    }

    @Test("a good UTF-8 CSV: every row imported, addresses created once, names searchable")
    func goodFile() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let url = try Self.file(Self.header + Self.row("张三", Self.id(1), grid: g) + Self.row("李四", Self.id(2), grid: g) + Self.row("赵六", Self.id(3), grid: g, room: "202"))
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url)
            #expect(r.read == 3 && r.imported == 3 && r.unchanged == 0 && r.flagged.isEmpty && r.rejected.isEmpty, "\(r.summary) \(r.rejected)")
            #expect(r.addressesCreated == 2)
            let c = try await Self.counts(app)
            #expect(c.residents == 3 && c.addresses == 2)
            let found = try await PopulationService(app.fengqiao).residents(try PopulationService.SearchInput(idNumber: Self.id(2)).query(), visible: .everything).0
            #expect(found.map(\.name) == ["李四"])
        }
    }

    @Test("a GB18030 CSV (Chinese Excel) is read and imported")
    func gb18030() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            // GB18030 bytes of `header` + `王五,X,流动,务工,租赁,13900139000,GRID,凤麓路,3号,1,1,2,201`.
            var bytes = Array(Data(base64Encoded: "0NXD+yzWpLz+usXC6yzIy7/awODQzSy+09ehysLTySzT69ehy/m52M+1LMGqz7W157uwLM34uPGx4MLrLL3WwrfP7yzDxcXGusUswqW2sCy1pdSqLMKlsuMsu6fK0rrFDQrN9c7lLFgswfe2ryzO8bmkLNfiwd4sMTM5MDAxMzkwMDAsR1JJRCy378K0wrcsM7rFLDEsMSwyLDIwMQ0K")!)
            func replace(_ old: String, _ new: String) {
                let o = Array(old.utf8), n = Array(new.utf8)
                if let i = (0...(bytes.count - o.count)).first(where: { Array(bytes[$0..<$0 + o.count]) == o }) { bytes.replaceSubrange(i..<i + o.count, with: n) }
            }
            replace(",X,", ",\(Self.id(7)),")
            replace(",GRID,", ",\(t.gridA.code),")
            let url = try ImportFixtures.temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url)
            #expect(r.imported == 1 && r.rejected.isEmpty, "\(r.rejected)")
            let found = try await PopulationService(app.fengqiao).residents(try PopulationService.SearchInput(idNumber: Self.id(7)).query(), visible: .everything).0
            #expect(found.map(\.name) == ["王五"])
        }
    }

    @Test("bad rows are reported with line, column and reason; the good rows are kept")
    func badRows() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let bad = Self.id(2).last == "0" ? Character("1") : Character("0")
            let text = Self.header + Self.row("张三", Self.id(1), grid: g) + Self.row("李四", Self.id(2, check: bad), grid: g)
                + Self.row("王五", Self.id(3), phone: "12345", grid: g) + Self.row("", Self.id(4), grid: g) + Self.row("赵六", Self.id(5), grid: g)
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url)
            #expect(r.read == 5 && r.imported == 2)
            #expect(r.rejected.map(\.line) == [3, 4, 5])
            #expect(r.rejected.map(\.column) == ["证件号码", "联系电话", "姓名"])
            #expect(try await Self.counts(app).residents == 2)
            let csv = String(decoding: PopulationImportService.issuesCSV(r), as: UTF8.self)
            #expect(csv.hasPrefix("\u{FEFF}行号"))
            #expect(csv.contains("\r\n3,证件号码,") && csv.contains("\r\n4,联系电话,") && csv.contains("\r\n5,姓名,"))
        }
    }

    @Test("an ID number that Excel turned into a number (5.30481199001E+17) is refused saying why, without echoing it")
    func excelNumber() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let url = try Self.file(Self.header + Self.row("张三", "5.30481199001E+17", grid: t.gridA.code) + Self.row("李四", Self.id(2), grid: t.gridA.code)
                                    + Self.row("王五", "5.30481199001e+17", grid: t.gridA.code))
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url)
            #expect(r.imported == 1 && r.rejected.map(\.line) == [2, 4])
            let reason = try #require(r.rejected.first?.reason)
            #expect(reason.contains("科学计数法") && reason.contains("文本") && !reason.contains("530481"), "\(reason)")
            let english = try #require(r.rejected.first?.reasonEnglish)
            #expect(english.contains("scientific notation") && english.contains("Text (文本)") && !english.contains("530481"), "\(english)")
        }
    }

    @Test("re-import creates no duplicates; the same person at another address is flagged, not written")
    func reimport() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let url = try Self.file(Self.header + Self.row("张三", Self.id(1), grid: g) + Self.row("李四", Self.id(2), grid: g))
            defer { try? FileManager.default.removeItem(at: url) }
            _ = try await Self.importResidents(app, url)
            let again = try await Self.importResidents(app, url)
            #expect(again.imported == 0 && again.unchanged == 2 && again.flagged.isEmpty && again.rejected.isEmpty)
            #expect(try await Self.counts(app) == (2, 1))
            let moved = try Self.file(Self.header + Self.row("张三", Self.id(1), grid: g, room: "909"))
            defer { try? FileManager.default.removeItem(at: moved) }
            let m = try await Self.importResidents(app, moved)
            #expect(m.imported == 0 && m.flagged.map(\.line) == [2] && m.flagged.first?.column == "证件号码")
            #expect(try await Self.counts(app).residents == 2)
        }
    }

    @Test("dry run validates and counts without writing")
    func dryRun() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let url = try Self.file(Self.header + Self.row("张三", Self.id(1), grid: g) + Self.row("李四", Self.id(2), phone: "1", grid: g) + Self.row("张三", Self.id(1), grid: g))
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url, dryRun: true)
            #expect(r.imported == 1 && r.unchanged == 1 && r.rejected.map(\.line) == [3])
            #expect(try await Self.counts(app) == (0, 0))
        }
    }

    @Test("a missing required column or a binary file stops the import and writes nothing")
    func badFiles() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let noName = Self.header.replacingOccurrences(of: "姓名,", with: "") + "\(Self.id(1)),流动,务工,租赁,13900139000,\(t.gridA.code),凤麓路,3号,1,1,2,201\r\n"
            let url = try Self.file(noName)
            defer { try? FileManager.default.removeItem(at: url) }
            await #expect(throws: ImportFileError.invalidHeader(missing: ["姓名"], duplicated: [])) {
                _ = try await Self.importResidents(app, url)
            }
            await #expect(throws: ImportFileError.self) {
                _ = try await Self.importResidents(app, ImportFixtures.url("binary.bin"))
            }
            #expect(try await Self.counts(app) == (0, 0))
        }
    }

    @Test("addresses: imported once, unchanged on re-import, bad rows reported; --grid-code default")
    func addresses() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let text = "Street,Doorplate,Estate,Building,Unit,Floor,Room\n凤麓路,1号,阳光小区,1,2,3,301\n凤麓路,1号,阳光小区,1,2,3,302\n凤麓路,,阳光小区,1,2,3,303\n"
            let url = try Self.file(text, bom: false)
            defer { try? FileManager.default.removeItem(at: url) }
            let svc = PopulationImportService(app.fengqiao)
            await #expect(throws: ImportFileError.self) {
                _ = try await svc.importAddresses(fileAt: url, options: .init(), actor: .commandLine(), visible: .everything)
            }
            let r = try await svc.importAddresses(fileAt: url, options: .init(gridCode: t.gridA.code), actor: .commandLine(), visible: .everything)
            #expect(r.imported == 2 && r.rejected.map(\.line) == [4] && r.rejected.first?.column == "Doorplate")
            let again = try await svc.importAddresses(fileAt: url, options: .init(gridCode: t.gridA.code), actor: .commandLine(), visible: .everything)
            #expect(again.imported == 0 && again.unchanged == 2)
            #expect(try await Self.counts(app).addresses == 2)
        }
    }
    @Test("many rows stream through several batches with progress reports")
    func manyRows() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            var text = Self.header
            for i in 1...2_501 { text += Self.row("人\(i)", Self.id(i), grid: t.gridA.code, room: "\(i)") }
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            final class Seen: @unchecked Sendable { let lock = NSLock(); var values: [Int] = []; var batches: [Int] = [] }
            let seen = Seen()
            let r = try await PopulationImportService(app.fengqiao).importResidents(
                fileAt: url, options: .init(dryRun: true, progressEvery: 500, progress: { n in seen.lock.withLock { seen.values.append(n) } },
                                            onBatch: { r in seen.lock.withLock { seen.batches.append(r.read) } }, batchRows: 2_000),
                actor: .commandLine(), visible: .everything)
            #expect(r.read == 2_501)
            #expect(r.imported == 2_501 && r.rejected.isEmpty, "\(r.rejected.prefix(3))")
            // Rows are handled in batches (2,000 here; 10,000 by default): progress is reported after each batch that crossed a multiple of 500.
            #expect(PopulationImportService.batchSize == 10_000 && PopulationImportService.Options().batchRows == 10_000)
            #expect(seen.lock.withLock { seen.values } == [2_000, 2_501])
            #expect(seen.lock.withLock { seen.batches } == [2_000, 2_501])
            #expect(try await Self.counts(app) == (0, 0))
        }
    }

    @Test("batched writes: 2,005 rows over two batches keep one record per person and address, each audited, chain intact")
    func batchedWrites() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let before = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            var text = Self.header
            // 2,000 people in 400 rooms (five per room).
            for i in 1...2_000 { text += Self.row("人\(i)", Self.id(i), grid: g, room: "\(i % 400)") }
            // The second batch (lines 2,002–2,006): person 5 again in its room (unchanged), person 7 in
            // another room (flagged), a new person twice in one batch at two rooms (second flagged),
            // person 3 again in its room (unchanged).
            text += Self.row("人5", Self.id(5), grid: g, room: "5")
            text += Self.row("人7", Self.id(7), grid: g, room: "999")
            text += Self.row("新人", Self.id(2_001), grid: g, room: "1000")
            text += Self.row("新人", Self.id(2_001), grid: g, room: "1001")
            text += Self.row("人3", Self.id(3), grid: g, room: "3")
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url, batchRows: 2_000)
            #expect(r.read == 2_005 && r.rejected.isEmpty, "\(r.rejected.prefix(3))")
            #expect(r.imported == 2_001)
            #expect(r.unchanged == 2)
            #expect(r.flagged.map(\.line).sorted() == [2_003, 2_005])
            #expect(r.addressesCreated == 401)
            let svc = PopulationService(app.fengqiao)
            #expect(try await svc.residents(try PopulationService.SearchInput().query(), visible: .everything).1 == 2_001)
            #expect(try await svc.addresses(gridID: nil, visible: .everything, limit: 1, offset: 0).1 == 401)
            let after = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            // One audit record per written batch, each row linked to it.
            #expect(after - before == 2)
            #expect(try await app.fengqiao.audit.verify(on: app.fengqiao.store.db) == .intact(rows: Int64(after)))
            let person = try #require(try await svc.residents(try PopulationService.SearchInput(idNumber: Self.id(1_500)).query(), visible: .everything).0.first)
            let history = try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", objectID: idText(person.id)), on: app.fengqiao.store.db)
            let batch = try #require(history.first)
            #expect(history.count == 1 && batch.action == .create && batch.objectID == nil)
            #expect(batch.detail?.hasPrefix("bulk import: 2000 residents, 400 addresses; ids sha256 ") == true)
            // The digest names exactly the rows linked to the record.
            let sql = app.fengqiao.store.db as! any SQLDatabase
            let linked = try await sql.select().column("id").from("actual_residents").where("created_audit_seq", .equal, batch.seq).all()
                .map { try $0.decode(column: "id", as: UUID.self).uuidString.lowercased() }.sorted()
            let linkedAddresses = try await sql.select().column("id").from("standard_addresses").where("created_audit_seq", .equal, batch.seq).all()
                .map { try $0.decode(column: "id", as: UUID.self).uuidString.lowercased() }.sorted()
            #expect(linked.count == 2_000 && linkedAddresses.count == 400)
            var hasher = SHA256()
            for id in linked + linkedAddresses { hasher.update(data: Data((id + "\n").utf8)) }
            #expect(batch.detail?.contains(hasher.finalize().map { String(format: "%02x", $0) }.joined()) == true)
            let home = try #require(try await app.fengqiao.audit.list(AuditQuery(objectType: "address", objectID: idText(person.residenceAddressID)), on: app.fengqiao.store.db).first)
            #expect(home.seq == batch.seq)
            // A resident registered one at a time keeps its own record and no link.
            #expect(try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", objectID: idText(UUID())), on: app.fengqiao.store.db).isEmpty)
            // Searchable by blind index after the batch write.
            let found = try await svc.residents(try PopulationService.SearchInput(idNumber: Self.id(1_500)).query(), visible: .everything).0
            #expect(found.map(\.name) == ["人1500"])
            // Re-import: nothing new.
            let again = try await Self.importResidents(app, url, batchRows: 2_000)
            #expect(again.imported == 0 && again.addressesCreated == 0 && again.unchanged == 2_003 && again.flagged.count == 2)
        }
    }

    @Test("the same ID number at the same address under another name is flagged on the name, not counted unchanged")
    func sameNumberOtherName() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let url = try Self.file(Self.header + Self.row("张三", Self.id(1), grid: g) + Self.row("张三丰", Self.id(1), grid: g))
            defer { try? FileManager.default.removeItem(at: url) }
            let r = try await Self.importResidents(app, url)
            #expect(r.imported == 1 && r.unchanged == 0)
            #expect(r.flagged.map(\.line) == [3] && r.flagged.first?.column == "姓名", "\(r.flagged)")
            // Again, against the stored record.
            let again = try Self.file(Self.header + Self.row("张三丰", Self.id(1), grid: g))
            defer { try? FileManager.default.removeItem(at: again) }
            let r2 = try await Self.importResidents(app, again)
            #expect(r2.imported == 0 && r2.unchanged == 0 && r2.flagged.map(\.line) == [2])
            #expect(try await Self.counts(app).residents == 1)
        }
    }

    @Test("a write transaction spans batches; when it fails, every row of all its batches is retried one by one and nothing is lost")
    func transactionAcrossBatches() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let g = t.gridA.code
            let sql = app.fengqiao.store.db as! any SQLDatabase
            // Fails a batch insert (rows linked to a batch audit record) of one name; the
            // row-by-row retry writes each resident with its own record and passes.
            if sql.dialect.name == "sqlite" {
                try await sql.raw("""
                    CREATE TRIGGER fq_test_fail BEFORE INSERT ON actual_residents
                    WHEN NEW.created_audit_seq IS NOT NULL AND NEW.name = '坏批' BEGIN SELECT RAISE(ROLLBACK, 'boom'); END
                    """).run()
            } else {
                try await sql.raw("""
                    CREATE FUNCTION fq_test_fail() RETURNS trigger AS $$ BEGIN
                    IF NEW.created_audit_seq IS NOT NULL AND NEW.name = '坏批' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql
                    """).run()
                try await sql.raw("CREATE TRIGGER fq_test_fail BEFORE INSERT ON actual_residents FOR EACH ROW EXECUTE FUNCTION fq_test_fail()").run()
            }
            let before = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            var text = Self.header
            for i in 1...25 { text += Self.row(i == 14 ? "坏批" : "人\(i)", Self.id(i), grid: g, room: "\(i % 5)") }
            // Person 2 again in the third batch, same room: unchanged, seen inside the open transaction.
            text += Self.row("人2", Self.id(2), grid: g, room: "2")
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            // Batches of 4; a transaction closes once it holds 10 rows: batches 1–3 (lines 2–13)
            // commit together; batch 4 (lines 14–17, person 14) fails its transaction, which then
            // holds only it, and its rows are retried one by one; batches 5–7 commit together.
            let r = try await PopulationImportService(app.fengqiao).importResidents(
                fileAt: url, options: .init(batchRows: 4, transactionRows: 10), actor: .commandLine(), visible: .everything)
            #expect(r.read == 26 && r.rejected.isEmpty && r.flagged.isEmpty, "\(r.rejected) \(r.flagged)")
            #expect(r.imported == 25 && r.unchanged == 1 && r.addressesCreated == 5)
            #expect(try await Self.counts(app) == (25, 5))
            // A record per committed batch (3 + 3), one per retried resident (4; their addresses
            // already exist); the chain is intact.
            let after = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            let batchRecords = try await sql.select().column("seq").from("audit_log").where("detail", .like, "bulk import:%").all().count
            #expect(batchRecords == 6)
            #expect(after - before == 6 + 4)
            #expect(try await app.fengqiao.audit.verify(on: app.fengqiao.store.db) == .intact(rows: Int64(after)))
            let svc = PopulationService(app.fengqiao)
            #expect(try await svc.residents(try PopulationService.SearchInput(idNumber: Self.id(14)).query(), visible: .everything).0.map(\.name) == ["坏批"])
            // Foreign keys are enforced again once the bulk transactions are over.
            for _ in 0..<4 {
                await #expect(throws: (any Error).self) {
                    try await app.fengqiao.store.write { db in
                        try await (db as! any SQLDatabase).raw("UPDATE actual_residents SET address_id = \(bind: UUID()) WHERE name = '人1'").run()
                    }
                }
            }
        }
    }

    @Test("one transaction over several large batches (PostgreSQL: several COPYs in one transaction)")
    func transactionOfLargeBatches() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            var text = Self.header
            for i in 1...450 { text += Self.row("人\(i)", Self.id(i), grid: t.gridA.code, room: "\(i % 100)") }
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let before = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            let r = try await PopulationImportService(app.fengqiao).importResidents(
                fileAt: url, options: .init(batchRows: 100, transactionRows: 10_000, transactionSeconds: 60), actor: .commandLine(), visible: .everything)
            #expect(r.imported == 450 && r.addressesCreated == 100 && r.rejected.isEmpty)
            // Five batch records: no batch failed and was retried row by row.
            #expect(try await app.fengqiao.audit.count(on: app.fengqiao.store.db) - before == 5)
            #expect(try await Self.counts(app) == (450, 100))
        }
    }

    @Test("unknown grid codes in later batches of an open transaction: rejected without waiting for its connection (once 30 s and a failed import)")
    func unknownGridsInsideTransaction() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            var text = Self.header
            for i in 1...40 { text += Self.row("人\(i)", Self.id(i), grid: i % 2 == 0 ? t.gridA.code : "NOPE-\(i)", room: "\(i)") }
            let url = try Self.file(text)
            defer { try? FileManager.default.removeItem(at: url) }
            let started = ContinuousClock.now
            let r = try await PopulationImportService(app.fengqiao).importResidents(
                fileAt: url, options: .init(batchRows: 4, transactionRows: 1_000, transactionSeconds: 60), actor: .commandLine(), visible: .everything)
            #expect(r.imported == 20 && r.rejectedRows == 20)
            #expect(r.rejected.allSatisfy { $0.column == "网格编码" })
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await Self.counts(app).residents == 20)
        }
    }
}
