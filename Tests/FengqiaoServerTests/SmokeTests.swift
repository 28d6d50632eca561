import FengqiaoCore
import FengqiaoServer
import Testing
import Vapor
import VaporTesting

@Suite("smoke", .serialized)
struct SmokeTests {
    @Test("health answers and the login page is Chinese")
    func health() async throws {
        try await withApp { app in
            try await app.testing().test(.GET, "/healthz") { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("ok"))
            }
            var b = Browser(app)
            let res = try await b.get("/login")
            #expect(res.status == .ok)
            #expect(res.body.string.contains("登录"))
        }
    }

    @Test("every registered route declares an access rule")
    func everyRouteHasARule() async throws {
        try await withApp { app in
            let missing = app.routes.all.filter { $0.accessRule == nil }.map(\.description)
            #expect(missing.isEmpty, "routes without an access rule: \(missing)")
            #expect(app.routes.all.count > 30)
        }
    }
}
