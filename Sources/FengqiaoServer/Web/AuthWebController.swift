import FengqiaoCore
import FengqiaoStore
import Vapor

/// Sign-in pages: password, second factor (check and enrolment), forced password change,
/// first setup, sign-out and the language switch.
struct AuthWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("login", access: .anonymous, use: loginPage)
        routes.post("login", access: .anonymous, use: login)
        routes.get("login", "continue", access: .signingIn, use: continueSignIn)
        routes.get("login", "totp", access: .signingIn, use: totpPage)
        routes.post("login", "totp", access: .signingIn, use: totp)
        routes.get("account", "totp", access: .signingIn, use: enrolPage)
        routes.post("account", "totp", access: .signingIn, use: enrol)
        routes.get("account", "password", access: .signingIn, use: passwordPage)
        routes.post("account", "password", access: .signingIn, use: changePassword)
        routes.post("logout", access: .signingIn, use: logout)
        routes.get("setup", ":token", access: .anonymous, use: setupPage)
        routes.post("setup", ":token", access: .anonymous, use: setup)
        routes.get("lang", ":code", access: .anonymous, use: switchLanguage)
    }

    struct LoginData: Encodable { var error: String?; var next: String; var username: String }
    struct LoginForm: Content { var username: String?; var password: String?; var next: String? }

    func loginPage(_ req: Request) async throws -> Response {
        if let p = req.principal, p.fullySignedIn { return req.redirect(to: "/") }
        return try await Page.render(req, "login", LoginData(error: nil, next: req.safeNext(req.query["next"]), username: ""), title: Page.t(req)["login.title"]!)
    }

    func login(_ req: Request) async throws -> Response {
        let f = try req.content.decode(LoginForm.self)
        let next = req.safeNext(f.next)
        let result = try await AuthService(req.fengqiao).login(username: String((f.username ?? "").prefix(64)), password: String((f.password ?? "").prefix(200)), actor: req.actor)
        switch result {
        case .refused:
            return try await Page.render(req, "login", LoginData(error: Page.t(req)["login.failed"], next: next, username: String((f.username ?? "").prefix(64))), title: Page.t(req)["login.title"]!, status: .unauthorized)
        case .signedIn(let token, _, let step):
            let target: String
            switch step {
            case .done: target = next
            case .secondFactor: target = "/login/totp"
            case .enrolSecondFactor: target = "/account/totp"
            case .changePassword: target = "/account/password"
            }
            let res = req.redirect(to: target, redirectType: .normal)
            res.cookies[PrincipalMiddleware.sessionCookie] = HTTPCookies.Value(
                string: token, expires: Date().addingTimeInterval(req.fengqiao.config.sessionPolicy.absoluteSeconds), path: "/",
                isSecure: req.fengqiao.config.cookieSecure, isHTTPOnly: true, sameSite: .lax)
            res.cookies[PrincipalMiddleware.preSessionCookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/")
            return res
        }
    }

    /// Sends a half-signed-in session to its next step.
    func continueSignIn(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        if p.fullySignedIn { return req.redirect(to: "/") }
        if p.secondFactorPending { return req.redirect(to: p.account.totpEnabled ? "/login/totp" : "/account/totp") }
        return req.redirect(to: "/account/password")
    }

    struct CodeData: Encodable { var error: String? }
    struct CodeForm: Content { var code: String? }

    func totpPage(_ req: Request) async throws -> Response {
        try await Page.render(req, "totp", CodeData(error: nil), title: Page.t(req)["totp.title"]!)
    }

    func totp(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let f = try req.content.decode(CodeForm.self)
        guard let sid = p.sessionID else { throw Abort(.unauthorized) }
        if try await AuthService(req.fengqiao).verifySecondFactor(sessionID: sid, userID: p.id, code: f.code ?? "", actor: req.actor) {
            return req.redirect(to: p.account.mustChangePassword ? "/account/password" : "/")
        }
        return try await Page.render(req, "totp", CodeData(error: Page.t(req)["totp.failed"]), title: Page.t(req)["totp.title"]!, status: .unauthorized)
    }

    struct EnrolData: Encodable { var secret: String; var uri: String; var error: String? }

    func enrolPage(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let auth = AuthService(req.fengqiao)
        guard let u = try await req.fengqiao.accounts.find(p.id, on: req.fengqiao.store.db), !u.totpEnabled else { return req.redirect(to: "/account") }
        let pending: (secret: String, uri: String)
        if let existing = try await auth.pendingEnrolment(userID: p.id) { pending = existing } else { pending = try await auth.beginEnrolment(userID: p.id) }
        return try await Page.render(req, "enrol", EnrolData(secret: pending.secret, uri: pending.uri, error: nil), title: Page.t(req)["enrol.title"]!)
    }

    func enrol(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let f = try req.content.decode(CodeForm.self)
        let auth = AuthService(req.fengqiao)
        if try await auth.confirmEnrolment(userID: p.id, sessionID: p.sessionID, code: f.code ?? "", actor: req.actor) {
            return req.redirect(to: p.account.mustChangePassword ? "/account/password" : "/")
        }
        guard let pending = try await auth.pendingEnrolment(userID: p.id) else { return req.redirect(to: "/account") }
        return try await Page.render(req, "enrol", EnrolData(secret: pending.secret, uri: pending.uri, error: Page.t(req)["totp.failed"]), title: Page.t(req)["enrol.title"]!, status: .unprocessableEntity)
    }

    struct PasswordData: Encodable { var error: String?; var done: Bool; var forced: Bool }
    struct PasswordForm: Content { var currentPassword: String?; var newPassword: String?; var repeatPassword: String? }

    func passwordPage(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try await Page.render(req, "password", PasswordData(error: nil, done: false, forced: p.account.mustChangePassword), title: Page.t(req)["password.title"]!)
    }

    func changePassword(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        if p.secondFactorPending { return req.redirect(to: "/login/continue") }
        let f = try req.content.decode(PasswordForm.self)
        guard (f.newPassword ?? "") == (f.repeatPassword ?? "") else {
            return try await Page.render(req, "password", PasswordData(error: t["password.mismatch"], done: false, forced: p.account.mustChangePassword), title: t["password.title"]!, status: .unprocessableEntity)
        }
        do {
            try await AuthService(req.fengqiao).changePassword(userID: p.id, current: f.currentPassword ?? "", new: f.newPassword ?? "", keepSession: p.sessionID, actor: req.actor)
        } catch let e as DomainError {
            let msg = FormError.from(e, form: "password", values: [:])?.message ?? e.description
            return try await Page.render(req, "password", PasswordData(error: msg, done: false, forced: p.account.mustChangePassword), title: t["password.title"]!, status: .unprocessableEntity)
        }
        return req.redirect(to: "/")
    }

    func logout(_ req: Request) async throws -> Response {
        if let p = req.principal, let sid = p.sessionID {
            try await AuthService(req.fengqiao).logout(sessionID: sid, actor: req.actor)
        }
        let res = req.redirect(to: "/login")
        res.cookies[PrincipalMiddleware.sessionCookie] = HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), path: "/", isSecure: req.fengqiao.config.cookieSecure, isHTTPOnly: true, sameSite: .lax)
        return res
    }

    struct SetupData: Encodable { var error: String?; var username: String; var displayName: String }
    struct SetupForm: Content { var username: String?; var displayName: String?; var password: String?; var repeatPassword: String? }

    func setupPage(_ req: Request) async throws -> Response {
        guard let token = req.parameters.get("token"), try await AuthService(req.fengqiao).setupTokenValid(token) else {
            throw DomainError.notFound(kind: "setup link")
        }
        return try await Page.render(req, "setup", SetupData(error: nil, username: "", displayName: ""), title: Page.t(req)["setup.title"]!)
    }

    func setup(_ req: Request) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        let f = try req.content.decode(SetupForm.self)
        let t = Page.t(req)
        guard (f.password ?? "") == (f.repeatPassword ?? "") else {
            return try await Page.render(req, "setup", SetupData(error: t["password.mismatch"], username: f.username ?? "", displayName: f.displayName ?? ""), title: t["setup.title"]!, status: .unprocessableEntity)
        }
        do {
            _ = try await AuthService(req.fengqiao).completeSetup(token: token, username: f.username ?? "", displayName: f.displayName ?? "", password: f.password ?? "", actor: req.actor)
        } catch let e as DomainError {
            if case .notFound = e { throw e }
            let msg = FormError.from(e, form: "setup", values: [:])?.message ?? e.description
            return try await Page.render(req, "setup", SetupData(error: msg, username: f.username ?? "", displayName: f.displayName ?? ""), title: t["setup.title"]!, status: .unprocessableEntity)
        }
        return req.redirect(to: "/login")
    }

    func switchLanguage(_ req: Request) async throws -> Response {
        let code = req.parameters.get("code") == "en" ? "en" : "zh"
        let res = req.redirect(to: req.safeNext(req.query["back"]))
        res.cookies["fq_lang"] = HTTPCookies.Value(string: code, maxAge: 365 * 86400, path: "/", isSecure: req.fengqiao.config.cookieSecure, isHTTPOnly: true, sameSite: .lax)
        return res
    }
}
