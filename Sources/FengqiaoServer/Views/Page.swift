import FengqiaoCore
import FengqiaoStore
import Vapor

/// Builds the common page context (labels, signed-in user, CSRF token, navigation) around a
/// page's own data, and renders a Leaf template. Page data stays apart from markup.
enum Page {
    struct Nav: Encodable {
        var href: String
        var label: String
    }

    struct Me: Encodable {
        var username: String
        var displayName: String
        var role: String
        var scope: String
    }

    struct Context<D: Encodable>: Encodable {
        var t: [String: String]
        var lang: String
        var otherLang: String
        var title: String
        var csrf: String
        var me: Me?
        var nav: [Nav]
        var path: String
        var data: D
    }

    static func lang(_ req: Request) -> L10n.Lang {
        if let c = req.cookies["fq_lang"]?.string, let l = L10n.Lang(rawValue: c) { return l }
        return .zh
    }

    static func t(_ req: Request) -> [String: String] { lang(req) == .zh ? L10n.zh : L10n.en }

    static func roleName(_ r: Role, _ req: Request) -> String { lang(req) == .zh ? r.nameZH : r.nameEN }

    /// The CSRF token for forms on this page: the session's, or a pre-session cookie's.
    static func csrf(_ req: Request) -> (token: String, setCookie: Bool) {
        if let t = req.principal?.csrfToken { return (t, false) }
        if let c = req.cookies[PrincipalMiddleware.preSessionCookie]?.string, c.count >= 20 { return (c, false) }
        return (AuthService.randomToken(bytes: 24), true)
    }

    static func render<D: Encodable>(_ req: Request, _ template: String, _ data: D, title: String, status: HTTPResponseStatus = .ok) async throws -> Response {
        let l = lang(req)
        let tt = l == .zh ? L10n.zh : L10n.en
        let (token, setCookie) = csrf(req)
        var nav: [Nav] = []
        var me: Me?
        if let p = req.principal, p.fullySignedIn {
            me = Me(username: p.account.username, displayName: p.account.displayName, role: roleName(p.role, req), scope: p.account.scope.level.nameZH)
            nav.append(Nav(href: "/", label: tt["nav.home"]!))
            if p.has(.territoryRead) { nav.append(Nav(href: "/territories", label: tt["nav.territories"]!)) }
            if p.has(.personRead) { nav.append(Nav(href: "/population", label: tt["pop.nav"]!)) }
            if p.has(.disputeRead) { nav.append(Nav(href: "/disputes", label: tt["nav.disputes"]!)) }
            if p.has(.incidentRead) { nav.append(Nav(href: "/incidents", label: tt["nav.incidents"]!)) }
            if p.has(.eventRead) { nav.append(Nav(href: "/hazards", label: tt["nav.hazards"]!)) }
            if p.has(.eventRead) && (p.has(.eventManage) || p.has(.eventSupervise)) { nav.append(Nav(href: "/hazards/statistics", label: tt["nav.hazardStats"]!)) }
            if p.has(.subsidyClaim) || p.has(.subsidyReview) { nav.append(Nav(href: "/subsidies", label: tt["nav.subsidies"]!)) }
            if p.has(.personWrite) { nav.append(Nav(href: "/imports", label: tt["nav.imports"]!)) }
            if p.has(.exportApprove) { nav.append(Nav(href: "/exports", label: tt["xa.title"]!)) }
            if p.has(.accountRead) { nav.append(Nav(href: "/admin/users", label: tt["nav.users"]!)) }
            if p.has(.auditRead) { nav.append(Nav(href: "/audit", label: tt["nav.audit"]!)) }
            if p.has(.eventConfigure) { nav.append(Nav(href: "/admin/notification-deliveries", label: tt["nav.deliveries"]!)) }
            // In-app notifications with the unread count as a badge (issue 5 "Notifications").
            let unread = try await NotificationService(req.fengqiao).unreadCount(owner: p.id)
            nav.append(Nav(href: "/notifications", label: tt["nav.notifications"]! + (unread > 0 ? " (\(unread))" : "")))
            nav.append(Nav(href: "/account", label: tt["nav.account"]!))
        }
        let ctx = Context(t: l == .zh ? L10n.zhTemplate : L10n.enTemplate, lang: l == .zh ? "zh-CN" : "en", otherLang: l == .zh ? "en" : "zh", title: title, csrf: token, me: me, nav: nav, path: req.url.path, data: data)
        let view = try await req.view.render(template, ctx)
        let res = try await view.encodeResponse(status: status, for: req)
        if setCookie {
            res.cookies[PrincipalMiddleware.preSessionCookie] = HTTPCookies.Value(
                string: token, maxAge: 3600 * 8, path: "/", isSecure: req.application.fengqiao.config.cookieSecure, isHTTPOnly: true, sameSite: .strict)
        }
        return res
    }
}
