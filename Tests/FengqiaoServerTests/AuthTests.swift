import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Signing in and out: cookies, uniform refusals, lockout, second factor, timeouts, password
/// rules and the first-setup link (GB/T 22239-2019 8.1.4.1; domain spec §7.2).
@Suite("auth", .serialized)
struct AuthTests {
    @Test("a successful login sets an HttpOnly, Secure, SameSite session cookie and opens the home page")
    func loginSetsCookie() async throws {
        try await withApp { app in
            _ = try await seedTerritory(app)
            try await makeUser(app, "officer", .communityPoliceOfficer, .city)
            var b = Browser(app)
            let res = try await b.login("officer")
            #expect(res.status == .seeOther || res.status == .found)
            #expect(location(res) == "/")
            let cookie = res.headers[.setCookie].first { $0.hasPrefix("fq_session=") }
            #expect(cookie != nil, "no fq_session cookie in \(res.headers[.setCookie])")
            let attrs = (cookie ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            #expect(attrs.contains("httponly"))
            #expect(attrs.contains("secure"))
            #expect(attrs.contains { $0.hasPrefix("samesite=") && ($0.hasSuffix("lax") || $0.hasSuffix("strict")) })
            #expect(attrs.contains("path=/"))
            #expect((b.cookies["fq_session"] ?? "").count >= 32)
            let home = try await b.get("/")
            #expect(home.status == .ok)
            #expect(home.body.string.contains("officer"))
        }
    }

    @Test("a wrong password and an unknown username get the same status and page text")
    func uniformRefusal() async throws {
        try await withApp { app in
            try await makeUser(app, "known.user", .gridWorker, .city)
            var b1 = Browser(app)
            let wrong = try await b1.login("known.user", "Wrong#Pass2026")
            var b2 = Browser(app)
            let unknown = try await b2.login("nobody.here", testPassword)
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == wrong.status)
            #expect(wrong.headers[.setCookie].contains { $0.hasPrefix("fq_session=") } == false)
            #expect(unknown.headers[.setCookie].contains { $0.hasPrefix("fq_session=") } == false)
            let a = normalisedLoginPage(wrong.body.string, username: "known.user")
            let c = normalisedLoginPage(unknown.body.string, username: "nobody.here")
            #expect(a == c)
            #expect(a.contains("用户名或口令错误"))
        }
    }

    @Test("five failures lock the account, even against the right password, and are audited")
    func lockout() async throws {
        try await withApp { app in
            let u = try await makeUser(app, "worker", .gridWorker, .city)
            var b = Browser(app)
            for _ in 1...5 {
                let r = try await b.login("worker", "Wrong#Pass2026")
                #expect(r.status == .unauthorized)
            }
            let sixth = try await b.login("worker", testPassword)
            #expect(sixth.status == .unauthorized)
            #expect(b.cookies["fq_session"] == nil)
            #expect(try await b.get("/").status != .ok)
            let stored = try #require(try await app.fengqiao.accounts.find(u.id, on: app.fengqiao.store.db))
            #expect((stored.lockedUntil ?? .distantPast) > Date())
            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "user", objectID: idText(u.id), action: .lockout), on: app.fengqiao.store.db)
            #expect(rows.count == 1)
            #expect(rows.first?.action == .lockout)
            let fails = try await app.fengqiao.audit.list(AuditQuery(objectType: "user", objectID: idText(u.id), action: .loginFail), on: app.fengqiao.store.db)
            #expect(fails.count == 6)
        }
    }

    @Test("a lockout expires after its period")
    func lockoutExpires() async throws {
        // 5 s: long enough that the locked attempt is still inside the period on a loaded machine.
        try await withApp(lockout: LockoutPolicy(maxFailures: 3, lockSeconds: 5)) { app in
            try await makeUser(app, "worker", .gridWorker, .city)
            var b = Browser(app)
            for _ in 1...3 { _ = try await b.login("worker", "Wrong#Pass2026") }
            let lockedAt = Date()
            #expect(try await b.login("worker").status == .unauthorized)
            try await Task.sleep(for: .seconds(max(0.1, 5.3 - Date().timeIntervalSince(lockedAt))))
            let res = try await b.login("worker")
            #expect(res.status == .seeOther)
            #expect(location(res) == "/")
            #expect(try await b.get("/").status == .ok)
        }
    }

    @Test("logout ends the session on the server, not only in the browser")
    func logout() async throws {
        try await withApp { app in
            try await makeUser(app, "worker", .gridWorker, .city)
            var b = Browser(app)
            _ = try await b.login("worker")
            let oldCookies = b.cookies
            #expect(try await b.get("/").status == .ok)
            let out = try await b.post("/logout", [:])
            #expect(out.status == .seeOther)
            #expect(location(out) == "/login")
            #expect(b.cookies["fq_session"] == nil)
            // Replaying the old cookie must not work either.
            var replay = Browser(app)
            replay.cookies = oldCookies
            let res = try await replay.get("/")
            #expect(redirectsToLogin(res))
            let api = try await replay.api(.GET, "/api/v1/me")
            #expect(api.status == .unauthorized)
        }
    }

    /// Reads the base32 secret shown on the enrolment page.
    func secret(from page: String) throws -> String {
        let marker = "<code class=\"secret\">"
        let r = try #require(page.range(of: marker))
        let rest = page[r.upperBound...]
        let end = try #require(rest.firstIndex(of: "<"))
        return String(rest[..<end])
    }

    @Test("a staff role with TOTP required enrols, is held to the sign-in pages until then, and cannot reuse a code")
    func totpEnrolment() async throws {
        try await withApp(totpRoles: [.communityPoliceOfficer]) { app in
            let t = try await seedTerritory(app)
            try await makeUser(app, "officer", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.community.id))
            var b = Browser(app)
            let login = try await b.login("officer")
            #expect(login.status == .seeOther)
            #expect(location(login) == "/account/totp")
            #expect(b.cookies["fq_session"] != nil)

            // Half signed in: only the sign-in pages.
            let home = try await b.get("/")
            #expect(home.status == .seeOther)
            #expect(location(home) == "/login/continue")
            #expect(location(try await b.get("/communities/\(idText(t.community.id))")) == "/login/continue")
            let cont = try await b.get("/login/continue")
            #expect(location(cont) == "/account/totp")
            let api = try await b.api(.GET, "/api/v1/me")
            #expect(api.status == .unauthorized)
            #expect(isProblem(api))

            let page = try await b.get("/account/totp")
            #expect(page.status == .ok)
            let secret = try secret(from: page.body.string)
            #expect(secret.count >= 16)
            let totp = TOTP(secret: try #require(Base32.decode(secret)))

            // A wrong code is refused and changes nothing.
            let wrongCode = totp.code(at: Date()) == "000000" ? "111111" : "000000"
            let bad = try await b.post("/account/totp", ["code": wrongCode])
            #expect(bad.status == .unprocessableEntity)
            #expect(location(try await b.get("/")) == "/login/continue")

            let code = totp.code(at: Date())
            let ok = try await b.post("/account/totp", ["code": code])
            #expect(ok.status == .seeOther)
            #expect(location(ok) == "/")
            #expect(try await b.get("/").status == .ok)
            let stored = try #require(try await app.fengqiao.accounts.find(username: "officer", on: app.fengqiao.store.db))
            #expect(stored.totpEnabled)

            // Later sign-in: the second factor is asked for, and the code already used is refused.
            _ = try await b.post("/logout", [:])
            var b2 = Browser(app)
            let again = try await b2.login("officer")
            #expect(location(again) == "/login/totp")
            #expect(location(try await b2.get("/")) == "/login/continue")
            #expect(try await b2.get("/login/totp").status == .ok)
            let reused = try await b2.post("/login/totp", ["code": code])
            #expect(reused.status == .unauthorized)
            #expect(reused.body.string.contains("动态口令不正确或已使用"))
            #expect(location(try await b2.get("/")) == "/login/continue")
            // The next code (inside the verification window) is accepted.
            let next = totp.code(counter: totp.counter(at: Date()) + 1)
            let fresh = try await b2.post("/login/totp", ["code": next])
            #expect(fresh.status == .seeOther)
            #expect(location(fresh) == "/")
            #expect(try await b2.get("/").status == .ok)
        }
    }

    @Test("an idle session times out and sends the browser to the login page")
    func idleTimeout() async throws {
        try await withApp(sessionPolicy: SessionPolicy(idleSecondsPrivileged: 1, idleSeconds: 1, absoluteSeconds: 3600)) { app in
            try await makeUser(app, "worker", .gridWorker, .city)
            var b = Browser(app)
            _ = try await b.login("worker")
            #expect(try await b.get("/").status == .ok)
            try await Task.sleep(for: .seconds(2))
            let res = try await b.get("/")
            #expect(redirectsToLogin(res), "status \(res.status), location \(location(res) ?? "-")")
            // The session is gone, not only refused once.
            #expect(redirectsToLogin(try await b.get("/territories")))
        }
    }

    @Test("after an administrator's reset the temporary password works only to set a new one")
    func forcedPasswordChange() async throws {
        try await withApp { app in
            let u = try await makeUser(app, "worker", .gridWorker, .city)
            var old = Browser(app)
            _ = try await old.login("worker")
            let temp = try await AccountService(app.fengqiao).resetPassword(u.id, actor: .commandLine())
            // The reset ends existing sessions.
            #expect(redirectsToLogin(try await old.get("/")))
            // The old password no longer works.
            var b0 = Browser(app)
            #expect(try await b0.login("worker").status == .unauthorized)

            var b = Browser(app)
            let res = try await b.login("worker", temp)
            #expect(res.status == .seeOther)
            #expect(location(res) == "/account/password")
            #expect(location(try await b.get("/")) == "/login/continue")
            #expect(location(try await b.get("/login/continue")) == "/account/password")
            #expect(try await b.api(.GET, "/api/v1/grids/\(idText(UUID()))").status == .unauthorized)
            let page = try await b.get("/account/password")
            #expect(page.status == .ok)

            let newPassword = "Neu#Passwort77"
            let done = try await b.post("/account/password", ["currentPassword": temp, "newPassword": newPassword, "repeatPassword": newPassword])
            #expect(done.status == .seeOther)
            #expect(location(done) == "/")
            #expect(try await b.get("/").status == .ok)

            var b2 = Browser(app)
            #expect(location(try await b2.login("worker", newPassword)) == "/")
            var b3 = Browser(app)
            #expect(try await b3.login("worker", temp).status == .unauthorized)
        }
    }

    @Test("the password policy refuses short passwords and the last five, with a message")
    func passwordPolicy() async throws {
        try await withApp { app in
            try await makeUser(app, "worker", .gridWorker, .city)
            var b = Browser(app)
            _ = try await b.login("worker")
            _ = try await b.get("/account/password")

            let short = try await b.post("/account/password", ["currentPassword": testPassword, "newPassword": "Ab1#", "repeatPassword": "Ab1#"])
            #expect(short.status == .unprocessableEntity)
            #expect(short.body.string.contains("长度至少 8 位"))

            let mismatch = try await b.post("/account/password", ["currentPassword": testPassword, "newPassword": "Good#Pass01", "repeatPassword": "Good#Pass02"])
            #expect(mismatch.status == .unprocessableEntity)
            #expect(mismatch.body.string.contains("两次输入的新口令不一致"))

            // The current password itself is in the history.
            let same = try await b.post("/account/password", ["currentPassword": testPassword, "newPassword": testPassword, "repeatPassword": testPassword])
            #expect(same.status == .unprocessableEntity)
            #expect(same.body.string.contains("不得与最近 5 次使用的口令相同"))

            // Walk through four more passwords, then try the first again: still among the last five.
            var current = testPassword
            for i in 1...4 {
                let next = "Rotate#Pass0\(i)"
                let r = try await b.post("/account/password", ["currentPassword": current, "newPassword": next, "repeatPassword": next])
                #expect(r.status == .seeOther, "change \(i) refused: \(r.status)")
                current = next
                try await Task.sleep(for: .milliseconds(20))
            }
            let reuse = try await b.post("/account/password", ["currentPassword": current, "newPassword": testPassword, "repeatPassword": testPassword])
            #expect(reuse.status == .unprocessableEntity)
            #expect(reuse.body.string.contains("不得与最近 5 次使用的口令相同"))
            let reuse2 = try await b.post("/account/password", ["currentPassword": current, "newPassword": "Rotate#Pass02", "repeatPassword": "Rotate#Pass02"])
            #expect(reuse2.status == .unprocessableEntity)

            // The refused changes left the password as it was.
            var b2 = Browser(app)
            #expect(location(try await b2.login("worker", current)) == "/")
        }
    }

    @Test("the one-time setup link creates the first system administrator once")
    func setupLink() async throws {
        try await withApp { app in
            let token = try #require(try await AuthService(app.fengqiao).setupTokenIfNeeded())
            var b = Browser(app)
            let bogus = try await b.get("/setup/\(token)x")
            #expect(bogus.status == .notFound)
            let page = try await b.get("/setup/\(token)")
            #expect(page.status == .ok)
            #expect(!b.csrf.isEmpty)

            let weak = try await b.post("/setup/\(token)", ["username": "root.admin", "displayName": "管理员", "password": "short", "repeatPassword": "short"])
            #expect(weak.status == .unprocessableEntity)
            #expect(try await app.fengqiao.accounts.count(role: .sysadmin, on: app.fengqiao.store.db) == 0)

            let res = try await b.post("/setup/\(token)", ["username": "root.admin", "displayName": "管理员", "password": testPassword, "repeatPassword": testPassword])
            #expect(res.status == .seeOther)
            #expect(location(res) == "/login")
            let u = try #require(try await app.fengqiao.accounts.find(username: "root.admin", on: app.fengqiao.store.db))
            #expect(u.roleValue == .sysadmin)

            var signed = Browser(app)
            #expect(location(try await signed.login("root.admin")) == "/")

            // Used once: the link is gone.
            #expect(try await b.get("/setup/\(token)").status == .notFound)
            _ = try await b.get("/login")
            let second = try await b.post("/setup/\(token)", ["username": "evil.admin", "displayName": "x", "password": testPassword, "repeatPassword": testPassword])
            #expect(second.status == .notFound)
            #expect(try await app.fengqiao.accounts.find(username: "evil.admin", on: app.fengqiao.store.db) == nil)
            #expect(try await app.fengqiao.accounts.count(role: .sysadmin, on: app.fengqiao.store.db) == 1)
            #expect(try await AuthService(app.fengqiao).setupTokenIfNeeded() == nil)
        }
    }
}
