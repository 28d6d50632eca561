import Crypto
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import FluentKit
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

    @Test("a retry after a crash between commit and the stored answer replays the committed record")
    func crashBetweenCommitAndAnswer() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (admin, token) = try await sysadminToken(app)
            let body = #"{"gridId":"\#(idText(t.gridA.id))","name":"断电楼","floors":4}"#
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            // Simulate the first attempt: the claim is taken, the building commits under it,
            // and the process dies before the answer is stored.
            let claim = UUID()
            let hashInput = Data("POST /api/v1/buildings\n".utf8) + Data(body.utf8)
            let hash = SHA256.hash(data: hashInput).map { String(format: "%02x", $0) }.joined()
            try await app.fengqiao.store.write { db in
                let m = IdempotencyKeyModel()
                m.id = claim
                m.owner = admin.id.uuidString.lowercased()
                m.key = "power-cut-1"
                m.requestHash = hash
                m.createdAt = Date().addingTimeInterval(-3600)
                try await m.create(on: db)
            }
            var actor = Actor.commandLine()
            actor.id = admin.id
            let created = try await IdempotencyScope.$claimID.withValue(claim) {
                try await TerritoryService(app.fengqiao).createBuilding(.init(gridId: t.gridA.id, name: "断电楼", floors: 4), actor: actor, visible: .everything)
            }
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
            // The retry, long after the 60 s stale-claim limit, must not create a second one.
            let retry = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("power-cut-1"))
            #expect(retry.status == .created)
            #expect(retry.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try json(retry, as: Building.self).id == created.id)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
            let again = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("power-cut-1"))
            #expect(again.body.string == retry.body.string)
        }
    }

    @Test("a claim whose transaction never committed is run again after 60 s")
    func staleUncommittedClaim() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (admin, token) = try await sysadminToken(app)
            let body = #"{"gridId":"\#(idText(t.gridA.id))","name":"重试楼"}"#
            let hash = SHA256.hash(data: Data("POST /api/v1/buildings\n".utf8) + Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
            try await app.fengqiao.store.write { db in
                let m = IdempotencyKeyModel()
                m.id = UUID()
                m.owner = admin.id.uuidString.lowercased()
                m.key = "rolled-back-1"
                m.requestHash = hash
                m.createdAt = Date().addingTimeInterval(-120)
                try await m.create(on: db)
            }
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let retry = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body, headers: key("rolled-back-1"))
            #expect(retry.status == .created)
            #expect(retry.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
        }
    }

    @Test("through HTTP, the claim records inside the write's transaction that it applied and what it created")
    func claimMarkedInTransaction() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (admin, token) = try await sysadminToken(app)
            let res = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"标记楼"}"#, headers: key("mark-1"))
            #expect(res.status == .created)
            let created = try json(res, as: Building.self)
            let row = try await IdempotencyRepository().find(owner: admin.id.uuidString.lowercased(), key: "mark-1", on: app.fengqiao.store.db)
            #expect(row?.appliedAt != nil)
            #expect(row?.objectType == "building")
            #expect(row?.objectID == created.id.uuidString.lowercased())
            #expect(row?.status == 201)
        }
    }
}
