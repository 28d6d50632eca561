import FengqiaoCore
import FengqiaoStore
import FluentKit
import Vapor

struct PrincipalKey: StorageKey { typealias Value = Principal }
struct FengqiaoKey: StorageKey { typealias Value = Fengqiao }

extension Application {
    /// The application's services (set by `configure`).
    public var fengqiao: Fengqiao {
        get {
            guard let f = storage[FengqiaoKey.self] else { fatalError("configure(_:config:) has not run") }
            return f
        }
        set { storage[FengqiaoKey.self] = newValue }
    }
}

extension Request {
    var fengqiao: Fengqiao { application.fengqiao }
    /// The signed-in caller, set by `PrincipalMiddleware`.
    var principal: Principal? {
        get { storage[PrincipalKey.self] }
        set { storage[PrincipalKey.self] = newValue }
    }

    /// The caller, or 401.
    func requirePrincipal() throws -> Principal {
        guard let p = principal else { throw Abort(.unauthorized) }
        return p
    }

    /// Whether the response should be problem+json rather than an HTML page.
    var wantsJSON: Bool {
        url.path.hasPrefix("/api/") || url.path == "/healthz"
    }

    /// The audit actor for this request.
    var actor: Actor {
        let p = principal
        return Actor(
            id: p?.id, name: p?.account.username ?? "anonymous", role: p?.role, scope: p?.account.scope,
            clientIP: remoteAddress?.ipAddress ?? headers.first(name: .xForwardedFor),
            userAgent: headers.first(name: .userAgent).map { String($0.prefix(200)) },
            requestID: storage[RequestIDKey.self] ?? headers.first(name: "X-Request-ID").map { String($0.prefix(64)) })
    }
}

struct RequestIDKey: StorageKey { typealias Value = String }

/// Authenticates the caller (session cookie or bearer token), enforces the route's access rule
/// and checks CSRF tokens on state-changing requests that a browser could forge.
struct PrincipalMiddleware: AsyncMiddleware {
    static let sessionCookie = "fq_session"
    static let preSessionCookie = "fq_csrf"

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let app = req.fengqiao
        let auth = AuthService(app)
        var viaCookie = false
        let rule = req.route?.accessRule
        if let bearer = req.headers.bearerAuthorization?.token, rule != .anonymous {
            guard let g = try await auth.token(secret: bearer) else {
                throw Abort(.unauthorized, reason: "The bearer token is unknown, expired or revoked.")
            }
            let account = g.account
            let visible = try await app.territories.visible(for: account.scope, on: app.store.db)
            req.principal = Principal(account: account, permissions: g.permissions.intersection(account.role.permissions), visible: visible, sessionID: nil, tokenID: g.tokenID, fullySignedIn: true, csrfToken: nil)
            if (g.lastUsedAt ?? .distantPast) < Date().addingTimeInterval(-300) {
                let tid = g.tokenID
                try await app.store.write { [app] db in try await app.sessions.touchToken(tid, at: Date(), on: db) }
            }
        } else if let cookie = req.cookies[Self.sessionCookie]?.string, let (s, u) = try await auth.session(token: cookie) {
            viaCookie = true
            let account = Account(u)
            let visible = try await app.territories.visible(for: account.scope, on: app.store.db)
            req.principal = Principal(
                account: account, permissions: account.role.permissions, visible: visible, sessionID: s.id, tokenID: nil,
                fullySignedIn: s.secondFactorDone && !u.mustChangePassword, secondFactorPending: !s.secondFactorDone, csrfToken: s.csrfToken)
        }

        guard let rule else {
            req.logger.error("route \(req.method) \(req.route?.description ?? req.url.path) has no access rule; refused")
            throw Abort(.internalServerError, reason: "This route has no access rule.")
        }

        // A caller with no account at all is told to sign in (401 / login page) before any CSRF
        // check, so an API client without a token is not sent chasing a CSRF header.
        switch rule {
        case .anonymous: break
        case .signingIn: guard req.principal?.sessionID != nil else { throw notSignedIn(req) }
        case .authenticated, .permission: guard req.principal != nil else { throw notSignedIn(req) }
        }

        // A streamed upload form carries its token as its first field; its handler checks it
        // before keeping any byte (`Route.checksCSRFInStreamedForm`).
        if ![.GET, .HEAD, .OPTIONS].contains(req.method), req.principal?.tokenID == nil, req.route?.checksCSRFInStreamedForm != true {
            try checkCSRF(req, sessionToken: viaCookie ? req.principal?.csrfToken : nil)
        }

        switch rule {
        case .anonymous:
            break
        case .signingIn:
            guard req.principal?.sessionID != nil else { throw notSignedIn(req) }
        case .authenticated, .permission:
            guard let p = req.principal else { throw notSignedIn(req) }
            guard p.fullySignedIn else { throw unfinishedSignIn(req, p) }
            if case .permission(let needed) = rule, !p.has(needed) {
                try await app.record(req.actor.draft(.read, objectType: "route", objectID: req.route?.description, result: .denied, detail: "missing \(needed.rawValue)"))
                throw Abort(.forbidden, reason: "Your role does not carry the right \(needed.rawValue).")
            }
        }
        return try await next.respond(to: req)
    }

    private func checkCSRF(_ req: Request, sessionToken: String?) throws {
        let sent = req.headers.first(name: "X-CSRF-Token") ?? (try? req.content.get(String.self, at: "_csrf"))
        let expected = sessionToken ?? req.cookies[Self.preSessionCookie]?.string
        guard let sent, let expected, !expected.isEmpty, constantTimeEquals(sent, expected) else {
            throw CSRFError()
        }
    }

    private func notSignedIn(_ req: Request) -> any Error {
        if req.wantsJSON { return Abort(.unauthorized, reason: "Sign in or send a bearer token.") }
        let next = req.method == .GET ? req.url.path : "/"
        return Abort.redirect(to: "/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "/"))
    }

    private func unfinishedSignIn(_ req: Request, _ p: Principal) -> any Error {
        if req.wantsJSON { return Abort(.unauthorized, reason: "Finish signing in (second factor or password change) first.") }
        return Abort.redirect(to: "/login/continue")
    }
}

/// A missing or wrong CSRF token (forged or stale form).
struct CSRFError: Error {}

/// Request id and security headers on every response.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let rid = req.headers.first(name: "X-Request-ID").map { String($0.prefix(64)) } ?? UUID().uuidString.lowercased()
        req.storage[RequestIDKey.self] = rid
        let res = try await next.respond(to: req)
        res.headers.replaceOrAdd(name: "X-Request-ID", value: rid)
        res.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        res.headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        res.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        res.headers.replaceOrAdd(
            name: "Content-Security-Policy",
            value: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        if res.headers.first(name: .cacheControl) == nil {
            res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        return res
    }
}
