import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// `POST /api/v1/incidents/batch`: the dispatch system's feed, each entry stored as a single
/// intake is (repeat rule §3.7.3 across the batch too), bad entries reported by position while
/// the good ones are kept, territory enforced per entry, replays idempotent.
@Suite("incident batch intake", .serialized)
struct IncidentBatchTests {
    struct Result: Decodable {
        var index: Int
        var status: Int
        var incident: DisputeTests.IncidentOut?
        var problem: Problem?
        struct Problem: Decodable { var field: String; var reason: String }
    }
    struct BatchOut: Decodable { var stored: Int; var refused: Int; var results: [Result] }

    static func entry(address: UUID, phone: String, at: Date, category: String = "80") -> String {
        DisputeTests.incidentJSON(address: address, phone: phone, at: at, category: category)
    }

    @Test("good entries stored in order with repeat detection across the batch; bad ones named by position; the third call raises the dispute")
    func mixedBatch() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            let now = f.clock.now
            // The first call, three days ago, turned into a dispute.
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer,
                                      json: Self.entry(address: f.addressA, phone: "13900000001", at: now.addingTimeInterval(-3 * 86_400)))
            #expect(r.status == .created, "\(r.body.string)")
            let first = try json(r, as: DisputeTests.IncidentOut.self)
            for e in ["dispatch", "arrive"] {
                r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(first.id))/events", token: f.officer, json: #"{"event":"\#(e)"}"#)
                #expect(r.status == .ok, "\(r.body.string)")
            }
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(first.id))/events", token: f.officer, json: #"""
                {"event":"convertToDispute","dispute":{"category":"02","level":"grid","summary":"楼上噪音引发争吵","parties":[{"name":"张三"},{"name":"李四"}]}}
                """#)
            #expect(r.status == .created, "\(r.body.string)")
            let disputeID = try #require(try json(r, as: DisputeTests.IncidentEventOut.self).dispute?.dispute.id)
            // Wrongly typed values refuse their entry only, named in the API's terms.
            let typed = "{\"incidents\":[" + [
                #"{"category":"80","priority":"p9","gridId":"\#(idText(f.t.gridA.id))"}"#,
                #"{"category":"80","gridId":"not-a-uuid"}"#,
                #"{"category":80,"gridId":"\#(idText(f.t.gridA.id))"}"#,
            ].joined(separator: ",") + "]}"
            r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.officer, json: typed)
            #expect(r.status == .ok, "\(r.body.string)")
            let refused = try json(r, as: BatchOut.self)
            #expect(refused.stored == 0 && refused.results.map(\.status) == [422, 422, 422])
            #expect(refused.results.map { $0.problem?.field ?? "" } == ["incidents[0].priority", "incidents[1].gridId", "incidents[2].category"])
            #expect(refused.results[0].problem?.reason == "is not one of the allowed values" && refused.results[1].problem?.reason == "is not a valid UUID")
            #expect(!r.body.string.contains("IncidentPriority") && !r.body.string.contains("Cannot initialize"))
            let batch = "{\"incidents\":[" + [
                Self.entry(address: f.addressA, phone: "13900000002", at: now.addingTimeInterval(-2 * 86_400)),
                Self.entry(address: f.addressA, phone: "13900000009", at: now.addingTimeInterval(-2 * 86_400 + 60), category: "9Z"),
                Self.entry(address: f.addressA, phone: "13900000003", at: now.addingTimeInterval(-86_400)),
                Self.entry(address: UUID(), phone: "13900000004", at: now.addingTimeInterval(-3_600)),
            ].joined(separator: ",") + "]}"
            r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.officer, json: batch, headers: ["Idempotency-Key": "feed-0001"])
            #expect(r.status == .ok, "\(r.body.string)")
            let out = try json(r, as: BatchOut.self)
            #expect(out.stored == 2 && out.refused == 2)
            #expect(out.results.map(\.index) == [0, 1, 2, 3] && out.results.map(\.status) == [201, 422, 201, 422])
            let second = try #require(out.results[0].incident)
            #expect(second.isRepeat && second.repeatOf == first.id && second.disputeId == disputeID && second.repeatCountInWindow == 2 && second.riskRaisedTo == nil)
            let third = try #require(out.results[2].incident)
            #expect(third.isRepeat && third.repeatOf == first.id && third.disputeId == disputeID && third.repeatCountInWindow == 3 && third.riskRaisedTo == "O")
            #expect(out.results[1].problem?.field == "incidents[1].category", "\(String(describing: out.results[1].problem))")
            #expect(out.results[3].problem?.field == "incidents[3].addressId", "\(String(describing: out.results[3].problem))")
            #expect(!r.body.string.contains("13900000002"), "caller phones are masked in the answer")
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(disputeID))", token: f.officer)
            #expect(try json(r, as: DisputeTests.DetailOut.self).dispute.riskGrade == "O")
            // The feed retries the same batch: the first answer again, nothing stored twice.
            let replay = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.officer, json: batch, headers: ["Idempotency-Key": "feed-0001"])
            #expect(replay.status == .ok && replay.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try json(replay, as: BatchOut.self).results.compactMap(\.incident?.id) == [second.id, third.id])
            let stored = try await app.fengqiao.store.sql.raw("SELECT COUNT(*) AS n FROM police_incidents").first()?.decode(column: "n", as: Int.self)
            #expect(stored == 3)
            // The list: newest first, masked, scoped (another community's officer sees none).
            struct ListOut: Decodable { var items: [DisputeTests.IncidentOut]; var total: Int }
            r = try await apiCall(app, .GET, "/api/v1/incidents?limit=2", token: f.officer)
            #expect(r.status == .ok, "\(r.body.string)")
            let page = try json(r, as: ListOut.self)
            #expect(page.total == 3 && page.items.map(\.id) == [third.id, second.id])
            #expect(!r.body.string.contains("13900000003"))
            r = try await apiCall(app, .GET, "/api/v1/incidents", token: f.otherOfficer)
            #expect(try json(r, as: ListOut.self).total == 0)
        }
    }

    @Test("territory per entry, the permission, and the list's bounds")
    func boundsAndAccess() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            let now = f.clock.now
            let one = "{\"incidents\":[" + Self.entry(address: f.addressA, phone: "13900000001", at: now.addingTimeInterval(-60)) + "]}"
            // An officer of another community: the address is not theirs, nothing is stored.
            var r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.otherOfficer, json: one)
            #expect(r.status == .ok, "\(r.body.string)")
            let out = try json(r, as: BatchOut.self)
            #expect(out.stored == 0 && out.results.first?.problem?.field == "incidents[0].addressId")
            // A grid worker has no incident:write.
            r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.workerA, json: one)
            #expect(r.status == .forbidden)
            r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.officer, json: #"{"incidents":[]}"#)
            #expect(r.status == .unprocessableEntity && r.body.string.contains("incidents"), "\(r.body.string)")
            r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.officer, json: "{}")
            #expect(r.status == .unprocessableEntity && r.body.string.contains("incidents"), "\(r.body.string)")
            let many = "{\"incidents\":[" + Array(repeating: Self.entry(address: f.addressA, phone: "13900000001", at: now.addingTimeInterval(-60)), count: 501).joined(separator: ",") + "]}"
            r = try await apiCall(app, .POST, "/api/v1/incidents/batch", token: f.officer, json: many)
            #expect(r.status == .unprocessableEntity && r.body.string.contains("at most 500"), "\(r.body.string)")
            let stored = try await app.fengqiao.store.sql.raw("SELECT COUNT(*) AS n FROM police_incidents").first()?.decode(column: "n", as: Int.self)
            #expect(stored == 0)
        }
    }
}
