import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Cross-site request forgery: every state-changing request a browser could be tricked into
/// sending needs the session's token; bearer-token clients do not.
@Suite("csrf", .serialized)
struct CSRFTests {
    @Test("a form post without, with a forged, or with another session's CSRF token is refused and changes nothing")
    func formTokens() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            try await makeUser(app, "admin.two", .sysadmin, .city)
            var b = Browser(app)
            _ = try await b.login("sys.admin")
            _ = try await b.get("/grids/\(idText(t.gridA.id))")
            let mine = b.csrf
            #expect(mine.count >= 20)
            var other = Browser(app)
            _ = try await other.login("admin.two")
            _ = try await other.get("/")
            #expect(!other.csrf.isEmpty && other.csrf != mine)

            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let form = ["gridId": idText(t.gridA.id), "name": "伪造楼", "floors": "3"]

            let none = try await b.post("/buildings", form, csrf: false)
            #expect(none.status == .forbidden)
            var forged = form
            forged["_csrf"] = "forged-" + String(mine.dropFirst(7))
            let bad = try await b.post("/buildings", forged)
            #expect(bad.status == .forbidden)
            var foreign = form
            foreign["_csrf"] = other.csrf
            let cross = try await b.post("/buildings", foreign)
            #expect(cross.status == .forbidden)
            var empty = form
            empty["_csrf"] = ""
            #expect(try await b.post("/buildings", empty).status == .forbidden)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before)

            // The refusals did not end the session, and the right token works.
            let ok = try await b.post("/buildings", form)
            #expect(ok.status == .seeOther)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)
        }
    }

    @Test("logging out with a forged token does not end the session")
    func logoutNeedsToken() async throws {
        try await withApp { app in
            try await makeUser(app, "worker", .gridWorker, .city)
            var b = Browser(app)
            _ = try await b.login("worker")
            let res = try await b.post("/logout", ["_csrf": "nope"])
            #expect(res.status == .forbidden)
            #expect(try await b.get("/").status == .ok)
        }
    }

    @Test("the API with a session cookie needs X-CSRF-Token; with a bearer token it does not")
    func apiTokens() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            var b = Browser(app)
            _ = try await b.login("sys.admin")
            _ = try await b.get("/")
            let body = #"{"gridId":"\#(idText(t.gridA.id))","name":"API楼","floors":4}"#
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)

            var h = b.cookieHeader
            h.contentType = .json
            let missing = try await rawCall(app, .POST, "/api/v1/buildings", headers: h, body: body)
            #expect(missing.status == .forbidden)
            #expect(problem(missing)?.type.hasSuffix("/csrf") == true)
            var wrong = h
            wrong.replaceOrAdd(name: "X-CSRF-Token", value: "not-the-token")
            #expect(try await rawCall(app, .POST, "/api/v1/buildings", headers: wrong, body: body).status == .forbidden)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before)

            // Reads need no token.
            #expect(try await rawCall(app, .GET, "/api/v1/grids/\(idText(t.gridA.id))", headers: b.cookieHeader).status == .ok)

            let withHeader = try await b.api(.POST, "/api/v1/buildings", json: body)
            #expect(withHeader.status == .created)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 1)

            let bearer = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: body)
            #expect(bearer.status == .created)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before + 2)
        }
    }
}
