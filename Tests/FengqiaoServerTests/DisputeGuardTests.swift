import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Guards found by a new-user trial: a mediator does not appoint mediators (Art. 19); a point
/// given with a chosen grid must lie in that grid.
@Suite("dispute and incident guards", .serialized)
struct DisputeGuardTests {
    @Test("a mediator assigned to a case cannot appoint further mediators; the officer can")
    func mediatorDoesNotAppoint() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerA, json: DisputeTests.disputeJSON(grid: f.t.gridA.id))
            #expect(r.status == .created, "\(r.body.string)")
            let id = try json(r, as: DisputeTests.DetailOut.self).dispute.id
            _ = try await DisputeTests.advanced(app, f.workerA, id, #"{"event":"accept","version":1}"#)
            _ = try await DisputeTests.advanced(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
            let m2 = try #require(try await app.fengqiao.accounts.find(username: "mediator.two", on: app.fengqiao.store.db)?.id)
            let body = #"{"event":"assignMediators","version":3,"mediators":[{"accountId":"\#(idText(m2))"}]}"#
            r = try await DisputeTests.event(app, f.mediator1Token, id, body)
            #expect(r.status == .forbidden, "\(r.body.string)")
            let d = try await DisputeTests.advanced(app, f.officer, id, body)
            #expect(d.dispute.version == 4)
        }
    }

    @Test("an incident's point must lie in the grid it names, when the grid has a boundary")
    func pointInChosenGrid() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer,
                                      json: #"{"category":"80","gridId":"\#(idText(f.t.gridA.id))","location":{"lon":10.0,"lat":10.0}}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "location", "\(r.body.string)")
            // Grid B has no drawn boundary: the grid alone places the incident.
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer,
                                  json: #"{"category":"80","gridId":"\#(idText(f.t.gridB.id))","location":{"lon":10.0,"lat":10.0}}"#)
            #expect(r.status == .created, "\(r.body.string)")
            let inside = try #require(f.t.gridA.polygon?.centroid)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer,
                                  json: #"{"category":"80","gridId":"\#(idText(f.t.gridA.id))","location":{"lon":\#(inside.lon),"lat":\#(inside.lat)}}"#)
            #expect(r.status == .created, "\(r.body.string)")
        }
    }
}
