import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Data scope and permissions (domain spec §7.4: grid workers see only their grid, community
/// police their community). Outside one's scope a record does not exist: 404, never 403.
@Suite("access", .serialized)
struct AccessTests {
    func webPaths(_ t: Territory) -> (a: [String], hidden: [String]) {
        (
            ["/grids/\(idText(t.gridA.id))", "/buildings/\(idText(t.buildingA.id))", "/communities/\(idText(t.community.id))"],
            ["/grids/\(idText(t.gridB.id))", "/buildings/\(idText(t.buildingB.id))", "/communities/\(idText(t.otherCommunity.id))",
             "/grids/\(idText(t.gridC.id))", "/communities/\(idText(t.otherCommunity.id))/map.svg", "/stations/\(idText(UUID()))"]
        )
    }

    func apiHidden(_ t: Territory) -> [String] {
        [
            "/api/v1/grids/\(idText(t.gridB.id))", "/api/v1/buildings/\(idText(t.buildingB.id))",
            "/api/v1/communities/\(idText(t.otherCommunity.id))", "/api/v1/grids/\(idText(t.gridB.id))/buildings",
            "/api/v1/grids/\(idText(t.gridC.id))", "/api/v1/communities/\(idText(t.otherCommunity.id))/grids",
        ]
    }

    @Test("a grid worker sees grid A and gets 404 for grid B, building B and the other community, on the web and in the API")
    func gridWorkerScope() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let w = try await makeUser(app, "worker.a", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            var b = Browser(app)
            _ = try await b.login("worker.a")
            let (visible, hidden) = webPaths(t)
            for p in visible {
                let r = try await b.get(p)
                #expect(r.status == .ok, "\(p) → \(r.status)")
            }
            for p in hidden {
                let r = try await b.get(p)
                #expect(r.status == .notFound, "\(p) → \(r.status)")
                #expect(!r.body.string.contains("第2网格") && !r.body.string.contains("2栋") && !r.body.string.contains("另一社区"), "\(p) leaks a name")
            }
            // Writes outside the scope are 404 too (and a grid worker cannot write at all: 403).
            let token = try await issueToken(app, w)
            for p in ["/api/v1/grids/\(idText(t.gridA.id))", "/api/v1/buildings/\(idText(t.buildingA.id))",
                      "/api/v1/communities/\(idText(t.community.id))", "/api/v1/grids/\(idText(t.gridA.id))/buildings"] {
                let r = try await apiCall(app, .GET, p, token: token)
                #expect(r.status == .ok, "\(p) → \(r.status)")
            }
            for p in apiHidden(t) {
                let r = try await apiCall(app, .GET, p, token: token)
                #expect(r.status == .notFound, "\(p) → \(r.status)")
                #expect(problem(r)?.status == 404)
                // The same answer through the session cookie.
                let viaCookie = try await b.api(.GET, p)
                #expect(viaCookie.status == .notFound, "cookie \(p) → \(viaCookie.status)")
            }
            // Lists are filtered, not refused.
            let grids = try json(try await apiCall(app, .GET, "/api/v1/communities/\(idText(t.community.id))/grids", token: token), as: ListPage<Grid>.self)
            #expect(grids.items.map(\.id) == [t.gridA.id])
            let communities = try json(try await apiCall(app, .GET, "/api/v1/communities", token: token), as: ListPage<Community>.self)
            #expect(communities.items.map(\.id) == [t.community.id])
            let aBuildings = try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(t.gridA.id))/buildings", token: token), as: ListPage<Building>.self)
            #expect(aBuildings.items.map(\.id) == [t.buildingA.id])
        }
    }

    @Test("the community page shows a grid worker only their own grid")
    func communityPageForGridWorker() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            try await makeUser(app, "worker.a", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            var b = Browser(app)
            _ = try await b.login("worker.a")
            let page = try await b.get("/communities/\(idText(t.community.id))")
            #expect(page.status == .ok)
            // Leaf prints ids in upper case, the map in lower case: compare without case.
            let html = page.body.string.lowercased()
            #expect(html.contains("/grids/\(idText(t.gridA.id))"))
            #expect(!html.contains(idText(t.gridB.id)))
            #expect(!html.contains("第2网格"))
            #expect(!html.contains(t.gridB.code.lowercased()))
            let map = try await b.get("/communities/\(idText(t.community.id))/map.svg")
            #expect(map.status == .ok)
            #expect(!map.body.string.lowercased().contains(idText(t.gridB.id)))
            // /territories sends a grid worker to their community.
            #expect(location(try await b.get("/territories")) == "/communities/\(idText(t.community.id))")
            // The API's community summary counts only the visible grids.
            let token = try await issueToken(app, try #require(try await app.fengqiao.accounts.find(username: "worker.a", on: app.fengqiao.store.db)).asAccount)
            struct CommunityOut: Decodable { var gridCount: Int }
            let c = try json(try await apiCall(app, .GET, "/api/v1/communities/\(idText(t.community.id))", token: token), as: CommunityOut.self)
            #expect(c.gridCount == 1)
        }
    }

    @Test("a community officer sees both grids of their community and nothing of the other")
    func communityOfficerScope() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let o = try await makeUser(app, "officer", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.community.id))
            var b = Browser(app)
            _ = try await b.login("officer")
            let page = try await b.get("/communities/\(idText(t.community.id))")
            #expect(page.status == .ok)
            #expect(page.body.string.lowercased().contains("/grids/\(idText(t.gridA.id))"))
            #expect(page.body.string.lowercased().contains("/grids/\(idText(t.gridB.id))"))
            #expect(!page.body.string.lowercased().contains(idText(t.gridC.id)))
            for p in ["/grids/\(idText(t.gridB.id))", "/buildings/\(idText(t.buildingB.id))"] {
                #expect(try await b.get(p).status == .ok, "\(p)")
            }
            for p in ["/communities/\(idText(t.otherCommunity.id))", "/grids/\(idText(t.gridC.id))"] {
                #expect(try await b.get(p).status == .notFound, "\(p)")
            }
            let token = try await issueToken(app, o)
            let grids = try json(try await apiCall(app, .GET, "/api/v1/communities/\(idText(t.community.id))/grids", token: token), as: ListPage<Grid>.self)
            #expect(Set(grids.items.map(\.id)) == [t.gridA.id, t.gridB.id])
            #expect(try await apiCall(app, .GET, "/api/v1/buildings/\(idText(t.buildingB.id))", token: token).status == .ok)
            for p in ["/api/v1/communities/\(idText(t.otherCommunity.id))", "/api/v1/grids/\(idText(t.gridC.id))", "/api/v1/communities/\(idText(t.otherCommunity.id))/grids"] {
                let r = try await apiCall(app, .GET, p, token: token)
                #expect(r.status == .notFound, "\(p) → \(r.status)")
            }
            let communities = try json(try await apiCall(app, .GET, "/api/v1/communities", token: token), as: ListPage<Community>.self)
            #expect(communities.items.map(\.id) == [t.community.id])
        }
    }

    @Test("a city-wide system administrator sees everything")
    func sysadminSeesAll() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            var b = Browser(app)
            _ = try await b.login("sys.admin")
            let (a, hidden) = webPaths(t)
            for p in a + hidden.filter({ !$0.hasPrefix("/stations/") }) {
                #expect(try await b.get(p).status == .ok, "\(p)")
            }
            for p in apiHidden(t) {
                #expect(try await apiCall(app, .GET, p, token: token).status == .ok, "\(p)")
            }
            let communities = try json(try await apiCall(app, .GET, "/api/v1/communities", token: token), as: ListPage<Community>.self)
            #expect(communities.total == 2)
            // A missing id and a malformed id are the same 404.
            #expect(try await apiCall(app, .GET, "/api/v1/grids/\(idText(UUID()))", token: token).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/grids/not-a-uuid", token: token).status == .notFound)
        }
    }

    @Test("permissions: role rights, token scopes and revoked tokens")
    func permissions() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let w = try await makeUser(app, "worker.a", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            let wt = try await issueToken(app, w)
            let (_, st) = try await sysadminToken(app)
            let before = try await gridCount(app, community: t.community.id, token: st)
            let post = try await apiCall(app, .POST, "/api/v1/grids", token: wt, json: #"{"communityId":"\#(idText(t.community.id))","sequence":9,"name":"新网格"}"#)
            #expect(post.status == .forbidden)
            #expect(problem(post)?.type.hasSuffix("/forbidden") == true)
            #expect(try await gridCount(app, community: t.community.id, token: st) == before)
            // The web form is refused the same way.
            var wb = Browser(app)
            _ = try await wb.login("worker.a")
            _ = try await wb.get("/grids/\(idText(t.gridA.id))")
            #expect(try await wb.post("/buildings", ["gridId": idText(t.gridA.id), "name": "x"]).status == .forbidden)
            #expect(try await wb.get("/admin/users").status == .forbidden)

            let auditor = try await makeUser(app, "auditor", .auditAdmin, .city)
            let at = try await issueToken(app, auditor)
            let users = try await apiCall(app, .GET, "/api/v1/users", token: at)
            #expect(users.status == .forbidden)
            #expect(isProblem(users))
            #expect(try await apiCall(app, .GET, "/api/v1/grids/\(idText(t.gridA.id))", token: at).status == .forbidden)

            // A token scoped to territory:read cannot reach account routes though the role could.
            let sec = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            let narrow = try await issueToken(app, sec, scopes: [.territoryRead])
            #expect(try await apiCall(app, .GET, "/api/v1/users", token: narrow).status == .forbidden)
            #expect(try await apiCall(app, .GET, "/api/v1/users/\(idText(w.id))", token: narrow).status == .forbidden)
            #expect(try await apiCall(app, .GET, "/api/v1/audit", token: narrow).status == .forbidden)
            #expect(try await apiCall(app, .GET, "/api/v1/grids/\(idText(t.gridA.id))", token: narrow).status == .ok)
            let full = try await issueToken(app, sec)
            #expect(try await apiCall(app, .GET, "/api/v1/users", token: full).status == .ok)

            // A token cannot carry a right its role lacks.
            await #expect(throws: DomainError.self) { _ = try await issueToken(app, w, scopes: [.territoryWrite]) }

            // Revoked and unknown tokens: 401.
            let (model, secret) = try await AuthService(app.fengqiao).issueToken(user: w, name: "to-revoke", scopes: [.territoryRead], days: 1, actor: actor(w))
            #expect(try await apiCall(app, .GET, "/api/v1/me", token: secret).status == .ok)
            try await AuthService(app.fengqiao).revokeToken(id: try #require(model.id), owner: w.id, actor: actor(w))
            let revoked = try await apiCall(app, .GET, "/api/v1/me", token: secret)
            #expect(revoked.status == .unauthorized)
            #expect(isProblem(revoked))
            #expect(try await apiCall(app, .GET, "/api/v1/grids/\(idText(t.gridA.id))", token: secret).status == .unauthorized)
            #expect(try await apiCall(app, .GET, "/api/v1/me", token: "fq_" + String(repeating: "A", count: 43)).status == .unauthorized)
            // A revoked token cannot write either.
            let write = try await apiCall(app, .POST, "/api/v1/buildings", token: secret, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"x"}"#)
            #expect(write.status == .unauthorized)
        }
    }

    @Test("a disabled account's tokens stop working")
    func disabledAccountToken() async throws {
        try await withApp { app in
            let w = try await makeUser(app, "worker", .gridWorker, .city)
            let token = try await issueToken(app, w)
            #expect(try await apiCall(app, .GET, "/api/v1/me", token: token).status == .ok)
            try await AccountService(app.fengqiao).setDisabled(w.id, disabled: true, actor: .commandLine())
            #expect(try await apiCall(app, .GET, "/api/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test("without credentials, web pages redirect to the login page and the API answers 401 problem+json")
    func anonymousCalls() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            for p in ["/", "/territories", "/grids/\(idText(t.gridA.id))", "/buildings/\(idText(t.buildingA.id))", "/communities/\(idText(t.community.id))", "/admin/users", "/audit", "/account"] {
                let r = try await rawCall(app, .GET, p)
                #expect(redirectsToLogin(r), "\(p) → \(r.status) \(location(r) ?? "")")
                #expect(location(r)?.contains("next=") == true)
            }
            for p in ["/api/v1/me", "/api/v1/grids/\(idText(t.gridA.id))", "/api/v1/communities", "/api/v1/users", "/api/v1/audit"] {
                let r = try await rawCall(app, .GET, p)
                #expect(r.status == .unauthorized, "\(p) → \(r.status)")
                #expect(problem(r)?.status == 401)
                #expect(r.headers.first(name: .wwwAuthenticate) == "Bearer")
            }
            var h = HTTPHeaders()
            h.contentType = .json
            let post = try await rawCall(app, .POST, "/api/v1/buildings", headers: h, body: #"{"gridId":"\#(idText(t.gridA.id))","name":"x"}"#)
            #expect(post.status == .unauthorized, "anonymous API POST → \(post.status)")
            #expect(isProblem(post))
            var f = HTTPHeaders()
            f.contentType = .urlEncodedForm
            let form = try await rawCall(app, .POST, "/buildings", headers: f, body: "gridId=\(idText(t.gridA.id))&name=x")
            #expect(redirectsToLogin(form), "anonymous form POST → \(form.status)")
            #expect(try await tableCount(app, "buildings") == 2)
        }
    }

    @Test("no route that needs an account answers 2xx without credentials")
    func routeTable() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let ids = [t.gridA.id, t.community.id, t.buildingA.id, t.station.id]
            var checked = 0
            for route in app.routes.all {
                guard let rule = route.accessRule, rule != .anonymous else { continue }
                for id in ids {
                    let path = "/" + route.path.map { c -> String in
                        switch c {
                        case .constant(let s): return s
                        case .parameter: return idText(id)
                        case .anything, .catchall: return "x"
                        }
                    }.joined(separator: "/")
                    var h = HTTPHeaders()
                    var body: String?
                    if route.method != .GET {
                        if path.hasPrefix("/api/") {
                            h.contentType = .json
                            body = #"{"name":"x","gridId":"\#(idText(t.gridA.id))","communityId":"\#(idText(t.community.id))"}"#
                        } else {
                            h.contentType = .urlEncodedForm
                            body = "name=x&gridId=\(idText(t.gridA.id))"
                        }
                    }
                    let r = try await rawCall(app, route.method, path, headers: h, body: body)
                    #expect(!(200..<300).contains(Int(r.status.code)), "\(route.method) \(path) [\(rule)] answered \(r.status) without credentials")
                    if path.hasPrefix("/api/") {
                        #expect(r.status == .unauthorized, "\(route.method) \(path) → \(r.status)")
                    } else {
                        #expect(redirectsToLogin(r), "\(route.method) \(path) → \(r.status) \(location(r) ?? "")")
                    }
                    checked += 1
                }
            }
            #expect(checked > 100)
            #expect(try await tableCount(app, "buildings") == 2)
            #expect(try await tableCount(app, "grids") == 3)
        }
    }
}

extension UserModel {
    var asAccount: Account { Account(self) }
}
