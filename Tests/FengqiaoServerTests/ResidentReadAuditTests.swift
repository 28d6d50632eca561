import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
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
}
