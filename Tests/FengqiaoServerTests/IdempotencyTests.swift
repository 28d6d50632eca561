import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// `Idempotency-Key` on API creates: a phone that resends a report after a dropped connection
/// creates one record, not two.
@Suite("idempotency", .serialized)
struct IdempotencyTests {
    func key(_ k: String) -> HTTPHeaders { ["Idempotency-Key": k] }

    @Test("the same key and body replay the first answer and create one building")
    func replay() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let body = #"{"gridId":"\#(idText(t.gridA.id))","name":"重发楼","floors":5}"#
            let first = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("report-0001"))
            #expect(first.status == .created)
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            let second = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("report-0001"))
            #expect(second.status == first.status)
            #expect(second.body.string == first.body.string)
            #expect(second.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(location(second) == location(first))
            #expect(second.headers.contentType?.subType == "json")
            let third = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("report-0001"))
            #expect(third.body.string == first.body.string)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
            #expect(try json(second, as: Building.self).id == json(first, as: Building.self).id)
        }
    }

    @Test("the same key with another body is a 422 problem and creates nothing")
    func mismatch() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let first = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"甲楼"}"#, headers: key("k-1"))
            #expect(first.status == .created)
            let other = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"乙楼"}"#, headers: key("k-1"))
            #expect(other.status == .unprocessableEntity)
            #expect(problem(other)?.type.hasSuffix("/idempotency") == true)
            #expect(other.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
            // The same body to another path under the same key is also a different request.
            let path = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"甲楼"}"#, headers: key("k-1"))
            #expect(path.status == .unprocessableEntity)
        }
    }

    @Test("another key creates another building; keys belong to their caller")
    func differentKeys() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let other = try await makeUser(app, "admin.two", .sysadmin, .city)
            let otherToken = try await issueToken(app, other)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let body = #"{"gridId":"\#(idText(t.gridA.id))","name":"同名楼"}"#
            let a = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("k-A"))
            let b = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("k-B"))
            #expect(a.status == .created && b.status == .created)
            #expect(try json(a, as: Building.self).id != json(b, as: Building.self).id)
            #expect(b.headers.first(name: "Idempotent-Replayed") == nil)
            // Another caller's same key is their own.
            let c = try await apiCall(app, .POST, "/api/v1/buildings", token: otherToken, json: body, headers: key("k-A"))
            #expect(c.status == .created)
            #expect(c.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 3)
            // Without a key, each post creates.
            _ = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body)
            _ = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 5)
            // A malformed key is refused.
            let bad = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key(String(repeating: "x", count: 201)))
            #expect(bad.status == .badRequest)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 5)
        }
    }

    @Test("a refused request may be retried with a corrected body under the same key")
    func retryAfterFailure() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let bad = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"","floors":3}"#, headers: key("retry-1"))
            #expect(bad.status == .unprocessableEntity)
            #expect(problem(bad)?.errors?.first?.field == "name")
            // The same failing body again is evaluated again (not replayed as stored).
            let badAgain = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"","floors":3}"#, headers: key("retry-1"))
            #expect(badAgain.status == .unprocessableEntity)
            #expect(badAgain.headers.first(name: "Idempotent-Replayed") == nil)
            let fixed = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"改正楼","floors":3}"#, headers: key("retry-1"))
            #expect(fixed.status == .created)
            let again = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"改正楼","floors":3}"#, headers: key("retry-1"))
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
        }
    }
}
