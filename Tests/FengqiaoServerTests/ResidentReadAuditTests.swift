import Crypto
import FengqiaoCore
import SQLKit
import FengqiaoServer
import FengqiaoStore
import Foundation
import Logging
import Testing
import Vapor
import VaporTesting

/// Domain spec §7.3: every read of sensitive personal information writes an audit record, and the
/// audit administrator can list who looked at a given person — record pages, searches by exact
/// value and lists, never with the values searched for.
@Suite("resident reads audited", .serialized)
struct ResidentReadAuditTests {
    @Test("record reads, exact searches and lists each leave a read record naming the person and the criteria, not the values")
    func readsAudited() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: PopulationTests.residentJSON(address: f.addressA))
            #expect(c.status == .created, "\(c.body.string)")
            let id = try json(c, as: PopulationTests.ResidentOut.self).id
            func reads() async throws -> [AuditEntry] {
                try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", objectID: idText(id), action: .read), on: app.fengqiao.store.db)
            }
            #expect(try await reads().isEmpty)

            #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(id))", token: f.tokenA).status == .ok)
            var rows = try await reads()
            #expect(rows.count == 1 && rows[0].actorID == f.workerA.id && rows[0].fields == ["record"])

            let s = try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: #"{"idNumber":"\#(PopulationTests.canaryID)"}"#)
            #expect(s.status == .ok)
            rows = try await reads()
            #expect(rows.count == 2 && rows[0].fields == ["idNumber"] && rows[0].detail == "search")

            #expect(try await apiCall(app, .GET, "/api/v1/residents?q=%E6%9D%8E", token: f.tokenA).status == .ok)
            rows = try await reads()
            #expect(rows.count == 3 && rows[0].fields == ["name"])

            // A search that finds nobody is recorded without an object; the value searched for is nowhere.
            let before = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            #expect(try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: #"{"idNumber":"11010519491231002X"}"#).status == .ok)
            let all = try await app.fengqiao.audit.list(AuditQuery(limit: 1000), on: app.fengqiao.store.db)
            #expect(all.count == before + 1)
            #expect(all[0].action == .read && all[0].objectID == nil && all[0].detail == "search: no match")
            for e in all {
                let text = [e.detail, e.objectID, e.purpose].compactMap { $0 }.joined() + e.fields.joined()
                #expect(!text.contains("11010519491231002X") && !text.contains(PopulationTests.canaryID) && !text.contains("李"))
            }

            // Another grid's worker gets 404 and leaves no read of the person.
            #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(id))", token: f.tokenB).status == .notFound)
            #expect(try await reads().count == 3)
        }
    }

    @Test("a page of several residents is one chained read record naming each as a subject; each person's history finds it; subjects are append-only")
    func pageAuditedOnce() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            var ids: [UUID] = []
            for (n, number) in ["530481199001010011", "530481199001010038", "530481199001010054"].enumerated() {
                let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                          json: PopulationTests.residentJSON(address: f.addressA, idNumber: number, phone: nil, name: "李\(["一", "二", "三"][n])"))
                #expect(c.status == .created, "\(c.body.string)")
                ids.append(try json(c, as: PopulationTests.ResidentOut.self).id)
            }
            let before = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            let s = try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: #"{"name":"李"}"#)
            #expect(s.status == .ok)
            #expect(try await app.fengqiao.audit.count(on: app.fengqiao.store.db) == before + 1)
            let page = try #require(try await app.fengqiao.audit.list(AuditQuery(limit: 1), on: app.fengqiao.store.db).first)
            #expect(page.action == .read && page.objectID == nil && page.fields == ["name"])
            let sorted = ids.map(idText).sorted()
            let digest = SHA256.hash(data: Data(sorted.map { $0 + "\n" }.joined().utf8)).map { String(format: "%02x", $0) }.joined()
            #expect(page.detail == "search: 3 shown; ids sha256 \(digest)")
            for id in ids {
                let history = try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", objectID: idText(id), action: .read), on: app.fengqiao.store.db)
                #expect(history.map(\.seq) == [page.seq])
            }
            let sql = app.fengqiao.store.sql
            await #expect(throws: (any Error).self) { try await sql.raw("UPDATE audit_subjects SET object_id = 'x'").run() }
            await #expect(throws: (any Error).self) { try await sql.raw("DELETE FROM audit_subjects").run() }
            #expect(try await app.fengqiao.audit.verify(on: app.fengqiao.store.db) == .intact(rows: Int64(before + 1)))
        }
    }

    @Test("FENGQIAO_LOG_LEVEL=info logs one line per request with method, path, status and time, never the query string")
    func requestLog() async throws {
        let (location, cleanup) = try await TestDatabase.make()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = AppConfig(
            dataDirectory: dir, location: location, poolSize: 4, bcryptCost: 4, totpRoles: [], keys: ["k1": FieldCipher.generateKey()], currentKeyID: "k1",
            indexKey: FieldCipher.generateKey(), logLevel: "info")
        let sink = PopulationTests.LogSink()
        let app = try await Application.make(.testing)
        app.logger = Logger(label: "fengqiao.requests") { PopulationTests.CapturingLogHandler(label: $0, sink: sink) }
        do {
            try await configure(app, config: config)
            let f = try await PopulationTests.fixture(app)
            #expect(try await apiCall(app, .GET, "/api/v1/residents?q=%E6%9D%8E%E5%9B%9B", token: f.tokenA).status == .ok)
            #expect(try await apiCall(app, .GET, "/api/v1/residents?idNumber=530481199001010011", token: f.tokenA).status == .unprocessableEntity)
            let lines = sink.all
            #expect(lines.contains { $0.contains("GET /api/v1/residents 200 ") && $0.contains(" ms") }, "\(lines.suffix(5))")
            #expect(lines.contains { $0.contains("GET /api/v1/residents 422 ") })
            for l in lines { #expect(!l.contains("q=") && !l.contains("李四") && !l.contains("%E6") && !l.contains("530481199001010011"), "\(l)") }
        } catch {
            try? await app.asyncShutdown()
            await cleanup()
            throw error
        }
        try await app.asyncShutdown()
        await cleanup()
    }

    @Test("standalone audit records from 64 concurrent callers are each committed once, in one intact chain")
    func groupCommit() async throws {
        try await withApp { app in
            let before = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            let actor = Actor.commandLine()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<64 {
                    group.addTask { try await app.fengqiao.record(actor.draft(.read, objectType: "resident", objectID: "r\(i)", fields: ["record"])) }
                }
                try await group.waitForAll()
            }
            let after = try await app.fengqiao.audit.count(on: app.fengqiao.store.db)
            #expect(after - before == 64)
            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", action: .read, limit: 1000), on: app.fengqiao.store.db)
            #expect(Set(rows.compactMap(\.objectID)) == Set((0..<64).map { "r\($0)" }))
            #expect(try await app.fengqiao.audit.verify(on: app.fengqiao.store.db) == .intact(rows: Int64(after)))
        }
    }
}
