import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// An account linked to its holder's own resident record (M0032): a mediator who is a party to
/// the dispute is refused from the registry, without the assigning request having to say so.
@Suite("account resident link", .serialized)
struct AccountResidentTests {
    struct AccountOut: Decodable { var id: UUID; var residentId: UUID? }

    @Test("a mediator linked to a resident who is a party is refused on assignment; another mediator is not")
    func mediatorIsParty() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            // 张三 lives in grid A; the mediator account "mediator.one" is 张三.
            var r = try await apiCall(app, .POST, "/api/v1/residents", token: f.workerA,
                                      json: PopulationTests.residentJSON(address: f.addressA, idNumber: DisputeTests.partyID, name: "张三"))
            #expect(r.status == .created, "\(r.body.string)")
            let sec = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            let admin = try await issueToken(app, sec)
            r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(f.mediator1.id))/resident", token: admin, json: #"{"idNumber":"\#(DisputeTests.partyID)"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            let linked = try json(r, as: AccountOut.self).residentId
            #expect(linked != nil)
            // The audit record names the link, never the number.
            let trail = try await app.fengqiao.audit.list(AuditQuery(objectType: "user", objectID: idText(f.mediator1.id)), on: app.fengqiao.store.db)
            #expect(trail.contains { $0.fields == ["residentId"] })
            #expect(!trail.contains { ($0.detail ?? "").contains(DisputeTests.partyID) })
            // A dispute in which 张三 (the same person, linked by the registry) is a party.
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerA, json: DisputeTests.disputeJSON(grid: f.t.gridA.id))
            #expect(r.status == .created, "\(r.body.string)")
            let id = try json(r, as: DisputeTests.DetailOut.self).dispute.id
            _ = try await DisputeTests.advanced(app, f.workerA, id, #"{"event":"accept","version":1}"#)
            r = try await DisputeTests.event(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
            #expect(r.status == .unprocessableEntity && r.body.string.contains("is a party"), "\(r.body.string)")
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer)
            #expect(try json(r, as: DisputeTests.DetailOut.self).dispute.state == "accepted", "nothing changed")
            // Another mediator is assigned.
            let m2 = try #require(try await app.fengqiao.accounts.find(username: "mediator.two", on: app.fengqiao.store.db)?.id)
            let d = try await DisputeTests.advanced(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(m2))"}]}"#)
            #expect(d.dispute.state == "mediating")
            // Unlinking removes the refusal's basis.
            r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(f.mediator1.id))/resident", token: admin, json: "{}")
            #expect(r.status == .ok, "\(r.body.string)")
            #expect(try json(r, as: AccountOut.self).residentId == nil)
        }
    }

    @Test("bad input and access: unknown number, resident outside the administrator's territory, no account:manage")
    func badInputAndAccess() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            let sec = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            let admin = try await issueToken(app, sec)
            var r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(f.mediator1.id))/resident", token: admin, json: #"{"idNumber":"\#(DisputeTests.partyID)"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "idNumber", "\(r.body.string)")
            r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(f.mediator1.id))/resident", token: admin, json: #"{"residentId":"\#(idText(UUID()))"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "residentId", "\(r.body.string)")
            r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(UUID()))/resident", token: admin, json: "{}")
            #expect(r.status == .notFound)
            // A grid worker and an officer do not manage accounts.
            r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(f.mediator1.id))/resident", token: f.officer, json: "{}")
            #expect(r.status == .forbidden)
            let stored = try await app.fengqiao.accounts.find(f.mediator1.id, on: app.fengqiao.store.db)
            #expect(stored?.residentID == nil)
        }
    }

    @Test("web: the account page links by ID number in the form body and shows the link")
    func webForm() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            let r = try await apiCall(app, .POST, "/api/v1/residents", token: f.workerA,
                                      json: PopulationTests.residentJSON(address: f.addressA, idNumber: DisputeTests.partyID, name: "张三"))
            #expect(r.status == .created, "\(r.body.string)")
            _ = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            var b = Browser(app)
            _ = try await b.login("sec.admin")
            var page = try await b.get("/admin/users/\(idText(f.mediator1.id))")
            #expect(page.body.string.contains("未关联"))
            page = try await b.post("/admin/users/\(idText(f.mediator1.id))/resident", ["idNumber": "530481199001010099"])
            #expect(page.status == .unprocessableEntity && page.body.string.contains("no current actual resident"), "\(page.body.string.prefix(300))")
            page = try await b.post("/admin/users/\(idText(f.mediator1.id))/resident", ["idNumber": DisputeTests.partyID])
            #expect(page.status == .ok && page.body.string.contains("已关联 · 张三 530481********0011"), "\(page.body.string.prefix(300))")
            #expect(!page.body.string.contains(DisputeTests.partyID))
        }
    }
}
