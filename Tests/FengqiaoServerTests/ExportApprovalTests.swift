import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Domain spec §7.3: "Exports need an approval record and produce a watermarked file" — who may
/// approve, one download per approval, expiry, rejection, territory, races, and the audit trail.
@Suite("export approvals", .serialized)
struct ExportApprovalTests {
    typealias R = RecordsTests
    struct Lists: Decodable { var mine: [R.ApprovalOut]; var toDecide: [R.ApprovalOut] }
    static let request = #"{"filter":{"name":"李"},"format":"csv","purpose":"月度核查"}"#

    static func ask(_ app: Application, _ token: String, _ body: String = request) async throws -> UUID {
        let r = try await apiCall(app, .POST, "/api/v1/export-approvals", token: token, json: body)
        #expect(r.status == .created, "\(r.body.string)")
        return try json(r, as: R.ApprovalOut.self).id
    }

    static func decide(_ app: Application, _ token: String, _ id: UUID, _ body: String) async throws -> TestingHTTPResponse {
        try await apiCall(app, .POST, "/api/v1/export-approvals/\(idText(id))/decision", token: token, json: body)
    }

    @Test("only another approver whose territory covers the requester decides; a grid worker may not, nor an officer of another community")
    func whoDecides() async throws {
        try await withApp { app in
            let s = try await R.setup(app)
            let t = s.f.t
            let officer = try await makeUser(app, "officer.a", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.community.id))
            let other = try await makeUser(app, "officer.c", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.otherCommunity.id))
            let leader = try await makeUser(app, "leader", .stationLeader, TerritoryScope(level: .station, territoryID: t.station.id))
            let (to, tc, tl) = (try await issueToken(app, officer), try await issueToken(app, other), try await issueToken(app, leader))
            let id = try await Self.ask(app, s.f.tokenA)

            // A grid worker has no export:approve.
            #expect(try await Self.decide(app, s.f.tokenA, id, #"{"approve":true}"#).status == .forbidden)
            // Another community's officer neither sees nor decides it.
            #expect(try await Self.decide(app, tc, id, #"{"approve":true}"#).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/export-approvals/\(idText(id))", token: tc).status == .notFound)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/export-approvals", token: tc), as: Lists.self).toDecide.isEmpty)
            // The community's officer and the station leader see it in their queue.
            #expect(try json(try await apiCall(app, .GET, "/api/v1/export-approvals", token: to), as: Lists.self).toDecide.map(\.id) == [id])
            #expect(try json(try await apiCall(app, .GET, "/api/v1/export-approvals", token: tl), as: Lists.self).toDecide.map(\.id) == [id])
            // Nobody approves their own request.
            let own = try await Self.ask(app, to)
            let selfApproved = try await Self.decide(app, to, own, #"{"approve":true}"#)
            #expect(selfApproved.status == .unprocessableEntity && problem(selfApproved)?.errors?.first?.field == "approverId")
            #expect(try json(try await apiCall(app, .GET, "/api/v1/export-approvals", token: to), as: Lists.self).toDecide.map(\.id) == [id])
            // A rejection needs a reason; a decided request cannot be decided again.
            #expect(problem(try await Self.decide(app, to, id, #"{"approve":false}"#))?.errors?.first?.field == "note")
            #expect(try await Self.decide(app, to, id, #"{"approve":false,"note":"用途不明确"}"#).status == .ok)
            #expect(try await Self.decide(app, tl, id, #"{"approve":true}"#).status == .conflict)
            let refused = try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA, json: #"{"approvalId":"\#(idText(id))"}"#)
            #expect(refused.status == .unprocessableEntity && problem(refused)?.detail.contains("rejected: 用途不明确") == true, "\(refused.body.string)")
            // Each request and decision is audited; nothing was exported.
            let trail = try await R.audit(app, AuditQuery(objectType: "export-approval", objectID: idText(id)))
            #expect(trail.map(\.action) == [.update, .create] && trail[0].detail == "rejected" && trail[1].purpose == "月度核查")
            #expect(try await R.audit(app, AuditQuery(action: .export)).isEmpty)
        }
    }

    @Test("an approval is good for one download by its requester, until it expires; two downloads at once, one wins")
    func oneDownload() async throws {
        try await withApp { app in
            let s = try await R.setup(app)
            let officer = try await issueToken(app, try await makeUser(app, "officer.a", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: s.f.t.community.id)))
            let body = try await R.approvedExport(app, s, officer, Self.request)
            // Someone else holding the id gets nothing.
            #expect(try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenB, json: body).status == .notFound)
            async let a = apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA, json: body)
            async let b = apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA, json: body)
            let statuses = [try await a.status, try await b.status].map(\.code).sorted()
            #expect(statuses == [200, 422] || statuses == [200, 409], "\(statuses)")
            #expect(try await R.audit(app, AuditQuery(action: .export)).count == 1)
            let again = try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA, json: body)
            #expect(problem(again)?.detail.contains("already been used") == true)

            // Expiry: an approval past its validity is refused, naming when it expired.
            let late = try await R.approvedExport(app, s, officer, Self.request)
            let id = try #require(UUID(uuidString: String(late.dropFirst(15).prefix(36))))
            try await app.fengqiao.store.sql.update("export_approvals").set("valid_until", to: SQLBind(Date().addingTimeInterval(-60)))
                .where("id", .equal, SQLBind(id)).run()
            let expired = try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA, json: late)
            #expect(expired.status == .unprocessableEntity && problem(expired)?.detail.contains("expired at") == true, "\(expired.body.string)")
        }
    }
}
