import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Malformed, mistyped and hostile input: named in a problem+json answer, never stored, never
/// executed.
@Suite("bad input", .serialized)
struct BadInputTests {
    @Test("malformed JSON is a 400 problem that says so")
    func malformedJSON() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let res = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId": "\#(idText(t.gridA.id))", "name": "x""#)
            #expect(res.status == .badRequest)
            let p = problem(res)
            #expect(p?.status == 400)
            #expect(p?.type.hasSuffix("/malformed-body") == true)
            #expect(p?.detail.contains("not valid JSON") == true, "detail: \(p?.detail ?? "-")")
            let empty = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: "")
            #expect(empty.status.code >= 400 && empty.status.code < 500)
            #expect(isProblem(empty))
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before)
        }
    }

    @Test("a wrong type is a 400 naming the field")
    func wrongType() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let res = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"六层楼","floors":"six"}"#)
            #expect(res.status == .badRequest)
            let p = problem(res)
            #expect(p?.errors?.first?.field == "floors")
            #expect(p?.errors?.first?.reason.contains("number") == true)
            let badID = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"nope","name":"x"}"#)
            #expect(badID.status == .badRequest)
            #expect(problem(badID)?.errors?.first?.field == "gridId")
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before)
        }
    }

    @Test("a missing required field is a 422 naming it")
    func missingField() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            let noName = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","floors":3}"#)
            #expect(noName.status == .unprocessableEntity)
            #expect(problem(noName)?.errors?.first?.field == "name")
            let noGrid = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"name":"无网格楼"}"#)
            #expect(noGrid.status == .unprocessableEntity)
            #expect(problem(noGrid)?.errors?.first?.field == "gridId")
            let blank = try await apiCall(app, .POST, "/api/v1/buildings", token: token, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"   "}"#)
            #expect(blank.status == .unprocessableEntity)
            #expect(problem(blank)?.errors?.first?.field == "name")
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before)
        }
    }

    @Test("a name of 101 characters is a 422 naming name; 100 is accepted")
    func overlongName() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await gridCount(app, community: t.community.id, token: token)
            let long = String(repeating: "网", count: 101)
            let res = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: #"{"communityId":"\#(idText(t.community.id))","sequence":7,"name":"\#(long)"}"#)
            #expect(res.status == .unprocessableEntity)
            let p = problem(res)
            #expect(p?.errors?.first?.field == "name")
            #expect(p?.detail.contains("100") == true)
            #expect(try await gridCount(app, community: t.community.id, token: token) == before)
            let ok = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: #"{"communityId":"\#(idText(t.community.id))","sequence":7,"name":"\#(String(long.dropLast()))"}"#)
            #expect(ok.status == .created)
            #expect(try await gridCount(app, community: t.community.id, token: token) == before + 1)
        }
    }

    @Test("an unknown enum value is a 400 naming the field")
    func unknownEnum() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await gridCount(app, community: t.community.id, token: token)
            let res = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: #"{"communityId":"\#(idText(t.community.id))","sequence":8,"name":"怪网格","kind":"weird"}"#)
            #expect(res.status == .badRequest)
            #expect(problem(res)?.errors?.first?.field == "kind")
            #expect(try await gridCount(app, community: t.community.id, token: token) == before)
        }
    }

    @Test("SQL and markup in text are stored verbatim, escaped in pages, and harm nothing")
    func hostileText() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await gridCount(app, community: t.community.id, token: token)
            let evil = "'); DROP TABLE grids;--<script>alert(1)</script>"
            let body = #"{"communityId":"\#(idText(t.community.id))","sequence":5,"name":"'); DROP TABLE grids;--<script>alert(1)<\/script>","polygon":{"datum":"WGS-84","ring":[{"lon":102.92,"lat":24.68},{"lon":102.93,"lat":24.68},{"lon":102.93,"lat":24.67}]}}"#
            let res = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: body)
            #expect(res.status == .created)
            let g = try json(res, as: Grid.self)
            #expect(g.name == evil)
            let read = try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(g.id))", token: token), as: Grid.self)
            #expect(read.name == evil)
            #expect(try await gridCount(app, community: t.community.id, token: token) == before + 1)
            #expect(try await tableCount(app, "grids") == 4)

            var b = Browser(app)
            _ = try await b.login("sys.admin")
            for path in ["/grids/\(idText(g.id))", "/communities/\(idText(t.community.id))"] {
                let page = try await b.get(path)
                #expect(page.status == .ok)
                let html = page.body.string
                #expect(!html.contains("<script>alert(1)"), "\(path) contains raw markup")
                #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(path) does not show the escaped name")
            }
            let svg = try await b.get("/communities/\(idText(t.community.id))/map.svg")
            #expect(!svg.body.string.contains("<script>"))

            // Search text is a value, not SQL.
            let users = try await apiCall(app, .GET, "/api/v1/users?q=%27%20OR%201%3D1%20--", token: token)
            #expect(users.status == .ok)
            #expect(try json(users, as: ListPage<Account>.self).total == 0)
        }
    }

    @Test("a body that is not JSON by Content-Type is a 415")
    func wrongContentType() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await buildingCount(app, grid: t.gridA.id, token: token)
            var h = HTTPHeaders()
            h.bearerAuthorization = BearerAuthorization(token: token)
            h.contentType = .plainText
            let body = #"{"gridId":"\#(idText(t.gridA.id))","name":"文本楼"}"#
            let res = try await rawCall(app, .POST, "/api/v1/buildings", headers: h, body: body)
            #expect(res.status == .unsupportedMediaType)
            #expect(problem(res)?.status == 415)
            h.contentType = .urlEncodedForm
            #expect(try await rawCall(app, .POST, "/api/v1/buildings", headers: h, body: "gridId=\(idText(t.gridA.id))&name=x").status == .unsupportedMediaType)
            h.remove(name: .contentType)
            #expect(try await rawCall(app, .POST, "/api/v1/buildings", headers: h, body: body).status == .unsupportedMediaType)
            #expect(try await buildingCount(app, grid: t.gridA.id, token: token) == before)
        }
    }

    @Test("a polygon of two points is a 422 naming polygon")
    func shortPolygon() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let before = try await gridCount(app, community: t.community.id, token: token)
            let res = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: #"{"communityId":"\#(idText(t.community.id))","sequence":6,"name":"线网格","polygon":{"datum":"WGS-84","ring":[{"lon":102.9,"lat":24.6},{"lon":102.95,"lat":24.65}]}}"#)
            #expect(res.status == .unprocessableEntity)
            #expect(problem(res)?.errors?.first?.field == "polygon")
            #expect(try await gridCount(app, community: t.community.id, token: token) == before)
            // Editing grid A with such a polygon is refused too and leaves it as it was.
            let patch = try await apiCall(app, .PATCH, "/api/v1/grids/\(idText(t.gridA.id))", token: token, json: #"{"polygon":{"datum":"WGS-84","ring":[{"lon":102.9,"lat":24.6},{"lon":102.95,"lat":24.65}]}}"#)
            #expect(patch.status == .unprocessableEntity)
            let a = try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(t.gridA.id))", token: token), as: Grid.self)
            #expect(a.polygon == t.gridA.polygon)
        }
    }
}
