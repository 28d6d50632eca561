import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import FluentKit
import Foundation
import Testing
import Vapor
import VaporTesting

/// Defects found by trying the product as a new user; each stays fixed.
@Suite("regressions from the new-user trial", .serialized)
struct RegressionTests {
    @Test("a station-scoped security administrator cannot grant city scope, and a grant inside the territory answers the account")
    func grantStaysInsideTerritory() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let sec = try await makeUser(app, "sec.station", .securityAdmin, TerritoryScope(level: .station, territoryID: t.station.id))
            let victim = try await makeUser(app, "victim5", .volunteer, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            let token = try await issueToken(app, sec)
            let city = try await apiCall(app, .PUT, "/api/v1/users/\(idText(victim.id))/grant", token: token, json: #"{"role":"sysadmin","scope":{"level":"city"}}"#)
            #expect(city.status == .unprocessableEntity)
            #expect(problem(city)?.errors?.first?.field == "scope")
            let after = try await app.fengqiao.accounts.find(victim.id, on: app.fengqiao.store.db)
            #expect(after?.role == Role.volunteer.rawValue)
            #expect(after?.scopeLevel == ScopeLevel.grid.rawValue)
            // Inside the territory the grant works and answers the updated account.
            let ok = try await apiCall(app, .PUT, "/api/v1/users/\(idText(victim.id))/grant", token: token,
                                       json: #"{"role":"grid-worker","scope":{"level":"grid","territoryID":"\#(idText(t.gridB.id))"}}"#)
            #expect(ok.status == .ok)
            #expect(ok.body.string.contains("grid-worker"))
        }
    }

    @Test("the language switch and the login form never put CR/LF or another host into Location", arguments: [
        "/%0aSet-Cookie:%20evil=1", "/%0d%0aSet-Cookie:%20evil=1", "/%09/evil.example/", "//evil.example/", "/\\evil.example", "https://evil.example/",
    ])
    func noHeaderInjection(_ back: String) async throws {
        try await withApp { app in
            let res = try await rawCall(app, .GET, "/lang/en?back=\(back)")
            #expect(res.status == .seeOther)
            #expect(location(res) == "/")
            #expect(!res.headers[.setCookie].contains { $0.contains("evil") })
        }
    }

    @Test("the account page issues an API token with the scopes ticked (scopes[] fields)")
    func webTokenForm() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            try await makeUser(app, "officer.w", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.community.id))
            var b = Browser(app)
            _ = try await b.login("officer.w")
            _ = try await b.get("/account")
            let body = "_csrf=\(b.csrf)&name=%E6%89%8B%E6%9C%BA&days=30&scopes%5B%5D=territory%3Aread&scopes%5B%5D=account%3Aread"
            var headers = b.cookieHeader
            headers.contentType = .urlEncodedForm
            var out: TestingHTTPResponse?
            try await app.testing().test(.POST, "/account/tokens", headers: headers, body: ByteBuffer(string: body)) { out = $0 }
            #expect(out?.status == .ok)
            #expect(out?.body.string.contains("fq_") == true)
            let tokens = try await app.fengqiao.sessions.tokens(userID: try #require(try await app.fengqiao.accounts.find(username: "officer.w", on: app.fengqiao.store.db)?.id), on: app.fengqiao.store.db)
            #expect(tokens.count == 1)
            #expect(tokens.first?.scopes == "account:read territory:read")
        }
    }

    @Test("a grid worker sees only the residential group of their grid")
    func groupsOutsideGrid() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let svc = TerritoryService(app.fengqiao)
            let g2 = try await svc.createGroup(.init(communityId: t.community.id, name: "第二居民小组", sequence: 2), actor: .commandLine(), visible: .everything)
            let gw = try await makeUser(app, "gw.a", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            let token = try await issueToken(app, gw)
            let other = try await apiCall(app, .GET, "/api/v1/residential-groups/\(idText(g2.id))", token: token)
            #expect(other.status == .notFound)
            let own = try await apiCall(app, .GET, "/api/v1/residential-groups/\(idText(t.gridA.residentialGroupID!))", token: token)
            #expect(own.status == .ok)
            let community = try await apiCall(app, .GET, "/api/v1/communities/\(idText(t.community.id))", token: token)
            #expect(!community.body.string.contains("第二居民小组"))
        }
    }

    @Test("an invalid bearer token does not block anonymous routes")
    func bogusBearerOnHealth() async throws {
        try await withApp { app in
            let res = try await rawCall(app, .GET, "/healthz", headers: ["Authorization": "Bearer garbage"])
            #expect(res.status == .ok)
        }
    }

    @Test("web error pages speak the page's language")
    func localisedErrors() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            try await makeUser(app, "gw.b", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            var b = Browser(app)
            _ = try await b.login("gw.b")
            let res = try await b.get("/grids/\(idText(t.gridB.id))")
            #expect(res.status == .notFound)
            #expect(res.body.string.contains("不在您的数据范围内"))
        }
    }
}

@Suite("session housekeeping", .serialized)
struct SessionHousekeepingTests {
    @Test("sessions past their absolute lifetime are purged when someone signs in")
    func purgeOnLogin() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let u = try await makeUser(app, "gw.purge", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            let stale = SessionModel()
            stale.id = UUID()
            stale.tokenHash = String(repeating: "a", count: 64)
            stale.userID = u.id
            stale.csrfToken = "x"
            stale.secondFactorDone = true
            stale.createdAt = Date().addingTimeInterval(-10 * 3600)
            stale.lastSeenAt = stale.createdAt
            stale.expiresAt = Date().addingTimeInterval(-3600)
            try await app.fengqiao.store.write { db in try await app.fengqiao.sessions.createSession(stale, on: db) }
            var b = Browser(app)
            let res = try await b.login("gw.purge")
            #expect(res.status == .seeOther)
            let left = try await SessionModel.query(on: app.fengqiao.store.db).filter(\.$userID == u.id).all()
            #expect(left.count == 1)
            #expect(left.first?.id != stale.id)
        }
    }
}
