import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// The separation of the three administrator powers (三权分立, GB/T 22239-2019 安全管理中心):
/// the system administrator runs accounts, the security administrator grants, the audit
/// administrator reads the trail; none acts on themselves.
@Suite("admin powers", .serialized)
struct AdminPowersTests {
    struct NewUserOut: Decodable { var account: Account; var temporaryPassword: String? }

    func userJSON(_ username: String, _ role: Role, _ scope: TerritoryScope) -> String {
        #"{"username":"\#(username)","displayName":"\#(username)","role":"\#(role.rawValue)","scope":\#(scopeJSON(scope))}"#
    }

    @Test("the system administrator creates a grid worker but not an audit administrator")
    func sysadminCreates() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await sysadminToken(app)
            let res = try await apiCall(app, .POST, "/api/v1/users", token: token, json: userJSON("new.worker", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id)))
            #expect(res.status == .created)
            let out = try json(res, as: NewUserOut.self)
            #expect(out.account.role == .gridWorker)
            #expect(out.account.scope.territoryID == t.gridA.id)
            #expect(out.account.mustChangePassword)
            let temp = try #require(out.temporaryPassword)
            #expect(location(res) == "/api/v1/users/\(idText(out.account.id))")
            // The temporary password signs in to the password page only.
            var b = Browser(app)
            #expect(location(try await b.login("new.worker", temp)) == "/account/password")

            for role in [Role.auditAdmin, .securityAdmin, .sysadmin] {
                let refused = try await apiCall(app, .POST, "/api/v1/users", token: token, json: userJSON("new.\(role.rawValue)", role, .city))
                #expect(refused.status == .forbidden, "\(role) → \(refused.status)")
                #expect(problem(refused)?.type.hasSuffix("/forbidden") == true)
                #expect(try await app.fengqiao.accounts.find(username: "new.\(role.rawValue)", on: app.fengqiao.store.db) == nil)
            }
            // The security administrator may create an audit administrator.
            let sec = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            let created = try await apiCall(app, .POST, "/api/v1/users", token: try await issueToken(app, sec), json: userJSON("new.auditor", .auditAdmin, .city))
            #expect(created.status == .created)
            // Others cannot create accounts at all.
            let officer = try await makeUser(app, "officer", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.community.id))
            let byOfficer = try await apiCall(app, .POST, "/api/v1/users", token: try await issueToken(app, officer), json: userJSON("x.worker", .gridWorker, .city))
            #expect(byOfficer.status == .forbidden)
        }
    }

    @Test("only the security administrator grants, and never to themselves")
    func grants() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (sys, sysToken) = try await sysadminToken(app)
            let sec = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            let secToken = try await issueToken(app, sec)
            let auditor = try await makeUser(app, "auditor", .auditAdmin, .city)
            let w = try await makeUser(app, "worker", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            var wb = Browser(app)
            _ = try await wb.login("worker")
            #expect(try await wb.get("/").status == .ok)
            let body = #"{"role":"community-police-officer","scope":\#(scopeJSON(TerritoryScope(level: .community, territoryID: t.community.id)))}"#

            for (who, token) in [("sysadmin", sysToken), ("auditor", try await issueToken(app, auditor)), ("worker", try await issueToken(app, w))] {
                let r = try await apiCall(app, .PUT, "/api/v1/users/\(idText(w.id))/grant", token: token, json: body)
                #expect(r.status == .forbidden, "\(who) → \(r.status)")
                #expect(isProblem(r))
            }
            #expect(try await app.fengqiao.accounts.find(w.id, on: app.fengqiao.store.db)?.roleValue == .gridWorker)

            let ok = try await apiCall(app, .PUT, "/api/v1/users/\(idText(w.id))/grant", token: secToken, json: body)
            #expect(ok.status == .ok)
            let granted = try json(ok, as: NewUserOut.self).account
            #expect(granted.role == .communityPoliceOfficer)
            #expect(granted.scope == TerritoryScope(level: .community, territoryID: t.community.id))
            // The grant ends the account's sessions.
            #expect(redirectsToLogin(try await wb.get("/")))
            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "user", objectID: idText(w.id), action: .permissionChange), on: app.fengqiao.store.db)
            #expect(rows.count == 1)
            #expect(rows.first?.actorID == sec.id)

            // Nobody grants to themselves.
            let selfGrant = try await apiCall(app, .PUT, "/api/v1/users/\(idText(sec.id))/grant", token: secToken, json: #"{"role":"sysadmin","scope":{"level":"city"}}"#)
            #expect(selfGrant.status == .forbidden)
            #expect(try await app.fengqiao.accounts.find(sec.id, on: app.fengqiao.store.db)?.roleValue == .securityAdmin)
            let sysSelf = try await apiCall(app, .PUT, "/api/v1/users/\(idText(sys.id))/grant", token: sysToken, json: #"{"role":"security-admin","scope":{"level":"city"}}"#)
            #expect(sysSelf.status == .forbidden)
            #expect(try await app.fengqiao.accounts.find(sys.id, on: app.fengqiao.store.db)?.roleValue == .sysadmin)
            // Nor through the web form.
            var sb = Browser(app)
            _ = try await sb.login("sec.admin")
            _ = try await sb.get("/admin/users/\(idText(sec.id))")
            let web = try await sb.post("/admin/users/\(idText(sec.id))/grant", ["role": "sysadmin", "scope": "city"])
            #expect(web.status != .ok && web.status != .seeOther)
            #expect(try await app.fengqiao.accounts.find(sec.id, on: app.fengqiao.store.db)?.roleValue == .securityAdmin)
        }
    }

    @Test("the audit administrator never sees their own rows nor other audit administrators'; the security administrator sees only those")
    func auditReaders() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, sysToken) = try await sysadminToken(app)
            let a1 = try await makeUser(app, "auditor.one", .auditAdmin, .city)
            let a2 = try await makeUser(app, "auditor.two", .auditAdmin, .city)
            let sec = try await makeUser(app, "sec.admin", .securityAdmin, .city)
            let t1 = try await issueToken(app, a1)
            let t2 = try await issueToken(app, a2)
            let st = try await issueToken(app, sec)
            // Rows by everyone: the system administrator writes, both auditors sign in and verify.
            #expect(try await apiCall(app, .POST, "/api/v1/buildings", token: sysToken, json: #"{"gridId":"\#(idText(t.gridA.id))","name":"审计楼"}"#).status == .created)
            for name in ["auditor.one", "auditor.two"] {
                var b = Browser(app)
                _ = try await b.login(name)
            }
            #expect(try await apiCall(app, .GET, "/api/v1/audit/verify", token: t1).status == .ok)
            #expect(try await apiCall(app, .GET, "/api/v1/audit/verify", token: t2).status == .ok)
            #expect(try await apiCall(app, .GET, "/api/v1/users", token: st).status == .ok)

            // Make sure the trail does hold audit-admin rows, so the filter is what hides them.
            let all = try await app.fengqiao.audit.list(AuditQuery(limit: 1000), on: app.fengqiao.store.db)
            #expect(all.contains { $0.actorID == a1.id })
            #expect(all.contains { $0.actorID == a2.id })

            let r1 = try await apiCall(app, .GET, "/api/v1/audit?limit=1000", token: t1)
            #expect(r1.status == .ok)
            let seen1 = try json(r1, as: ListPage<AuditEntry>.self).items
            #expect(!seen1.isEmpty)
            #expect(!seen1.contains { $0.actorID == a1.id }, "audit admin sees their own rows")
            #expect(!seen1.contains { $0.actorRole == Role.auditAdmin.rawValue }, "audit admin sees another audit admin's rows")
            #expect(seen1.contains { $0.objectType == "building" && $0.action == .create })
            // Asking for one's own rows explicitly does not help.
            let own = try json(try await apiCall(app, .GET, "/api/v1/audit?actorId=\(idText(a1.id))", token: t1), as: ListPage<AuditEntry>.self)
            #expect(own.items.isEmpty)
            let other = try json(try await apiCall(app, .GET, "/api/v1/audit?actorId=\(idText(a2.id))", token: t1), as: ListPage<AuditEntry>.self)
            #expect(other.items.isEmpty)

            let rs = try await apiCall(app, .GET, "/api/v1/audit?limit=1000", token: st)
            #expect(rs.status == .ok)
            let seenS = try json(rs, as: ListPage<AuditEntry>.self).items
            #expect(!seenS.isEmpty)
            #expect(seenS.allSatisfy { $0.actorRole == Role.auditAdmin.rawValue })
            #expect(seenS.contains { $0.actorID == a1.id } && seenS.contains { $0.actorID == a2.id })
            #expect(!seenS.contains { $0.actorID == sec.id })

            // The web viewer applies the same filter.
            var wb = Browser(app)
            _ = try await wb.login("auditor.one")
            let page = try await wb.get("/audit")
            #expect(page.status == .ok)
            #expect(!page.body.string.contains("auditor.two"))
        }
    }

    @Test("disabling an account ends its sessions at once")
    func disableEndsSessions() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (sys, sysToken) = try await sysadminToken(app)
            let w = try await makeUser(app, "worker", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
            var b = Browser(app)
            _ = try await b.login("worker")
            #expect(try await b.get("/grids/\(idText(t.gridA.id))").status == .ok)

            let res = try await apiCall(app, .POST, "/api/v1/users/\(idText(w.id))/disable", token: sysToken)
            #expect(res.status == .ok)
            #expect(try json(res, as: NewUserOut.self).account.disabled)
            let after = try await b.get("/grids/\(idText(t.gridA.id))")
            #expect(redirectsToLogin(after), "old cookie → \(after.status) \(location(after) ?? "")")
            var b2 = Browser(app)
            #expect(try await b2.login("worker").status == .unauthorized)

            // Nobody disables themselves, and the system administrator does not disable administrators.
            #expect(try await apiCall(app, .POST, "/api/v1/users/\(idText(sys.id))/disable", token: sysToken).status == .forbidden)
            let auditor = try await makeUser(app, "auditor", .auditAdmin, .city)
            #expect(try await apiCall(app, .POST, "/api/v1/users/\(idText(auditor.id))/disable", token: sysToken).status == .forbidden)
            #expect(try await app.fengqiao.accounts.find(auditor.id, on: app.fengqiao.store.db)?.disabled == false)

            // Re-enabled, the account signs in again.
            #expect(try await apiCall(app, .POST, "/api/v1/users/\(idText(w.id))/enable", token: sysToken).status == .ok)
            var b3 = Browser(app)
            #expect(location(try await b3.login("worker")) == "/")
        }
    }
}
