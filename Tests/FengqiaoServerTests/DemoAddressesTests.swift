import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The demo community's standard addresses: eight per building, in the building's grid, so a
/// police incident can be placed at an address and a repeat call from it is linked (§3.7.3).
@Suite("demo community addresses", .serialized)
struct DemoAddressesTests {
    @Test("eight standard addresses per demo building; calls from one of them are linked to the dispute and raise its risk")
    func demoAddresses() async throws {
        try await withApp { app in
            let clock = DisputeTestClock(DisputeTests.start)
            app.disputeSettings.clock = { clock.now }
            let demo = try await DemoCommunity(app.fengqiao).load(actor: .commandLine())
            let sql = app.fengqiao.store.sql
            let n = try await sql.raw("SELECT COUNT(*) AS n FROM standard_addresses").first()?.decode(column: "n", as: Int.self)
            #expect(n == demo.buildings * 8)
            let misplaced = try await sql.raw("""
                SELECT COUNT(*) AS n FROM standard_addresses a JOIN buildings b ON b.id = a.building_id WHERE a.grid_id <> b.grid_id
                """).first()?.decode(column: "n", as: Int.self)
            #expect(misplaced == 0)
            let officer = try #require(try await app.fengqiao.accounts.find(username: "demo-officer", on: app.fengqiao.store.db))
            let token = try await issueToken(app, Account(officer))
            let address = try #require(try await sql.raw("SELECT id FROM standard_addresses ORDER BY address_key LIMIT 1").first()?.decode(column: "id", as: UUID.self))
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: token, json: DisputeTests.incidentJSON(address: address, phone: "13900000001"))
            #expect(r.status == .created, "\(r.body.string)")
            let first = try json(r, as: DisputeTests.IncidentOut.self)
            for e in ["dispatch", "arrive"] {
                r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(first.id))/events", token: token, json: #"{"event":"\#(e)"}"#)
                #expect(r.status == .ok, "\(r.body.string)")
            }
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(first.id))/events", token: token, json: #"""
                {"event":"convertToDispute","dispute":{"category":"02","level":"grid","summary":"楼上噪音引发争吵","parties":[{"name":"张三"},{"name":"李四"}]}}
                """#)
            #expect(r.status == .created, "\(r.body.string)")
            let dispute = try #require(try json(r, as: DisputeTests.IncidentEventOut.self).dispute?.dispute.id)
            var last: DisputeTests.IncidentOut?
            for phone in ["13900000002", "13900000003"] {
                clock.advance(days: 1)
                r = try await apiCall(app, .POST, "/api/v1/incidents", token: token, json: DisputeTests.incidentJSON(address: address, phone: phone))
                #expect(r.status == .created, "\(r.body.string)")
                last = try json(r, as: DisputeTests.IncidentOut.self)
                #expect(last?.isRepeat == true && last?.repeatOf == first.id && last?.disputeId == dispute)
            }
            #expect(last?.repeatCountInWindow == 3 && last?.riskRaisedTo == "O")
        }
    }
}
