import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// The notification pages (issue 5 "Notifications"): every signed-in user's own in-app
/// notifications (`/notifications`, with "mark read"), and for administrators of events the
/// delivery results of the outbox (`/admin/notification-deliveries`: status, attempts, last error,
/// next attempt, "retry now").
struct NotificationWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("notifications", access: .authenticated, use: list)
        routes.post("notifications", ":id", "read", access: .authenticated, use: markRead)
        routes.post("notifications", "read-all", access: .authenticated, use: markAllRead)
        routes.get("admin", "notification-deliveries", access: .permission(.eventConfigure), use: deliveries)
        routes.post("admin", "notification-deliveries", ":id", "retry", access: .permission(.eventConfigure), use: retry)
    }

    static func time(_ d: Date?) -> String {
        guard let d else { return "" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = HazardService.timeZone
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: d)
    }

    struct Row: Encodable { var id: String; var title: String; var body: String; var link: String?; var at: String; var read: Bool }
    struct ListData: Encodable { var rows: [Row]; var total: Int; var unread: Int; var onlyUnread: Bool }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let onlyUnread = req.query[String.self, at: "unread"] == "1"
        let l = try await NotificationService(req.fengqiao).list(owner: p.id, unreadOnly: onlyUnread, limit: 100)
        let rows = l.items.map { Row(id: $0.id.uuidString.lowercased(), title: $0.title, body: $0.body, link: Self.webLink($0.link), at: Self.time($0.createdAt), read: $0.readAt != nil) }
        return try await Page.render(req, "notifications", ListData(rows: rows, total: l.total, unread: l.unread, onlyUnread: onlyUnread), title: Page.t(req)["notif.title"]!)
    }

    /// The page a notification leads to: a hazard's API address (`/api/v1/events/{id}`) becomes its
    /// page `/hazards/{id}`; other site paths stay; anything else (another API path) gets no link.
    static func webLink(_ link: String?) -> String? {
        guard let link, link.hasPrefix("/"), !link.hasPrefix("//") else { return nil }
        if link.hasPrefix("/api/v1/events/") { return "/hazards/" + link.dropFirst("/api/v1/events/".count) }
        return link.hasPrefix("/api/") ? nil : link
    }

    func markRead(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        _ = try await NotificationService(req.fengqiao).markRead(try req.uuid("id", kind: "notification"), owner: p.id)
        return req.redirect(to: "/notifications")
    }

    func markAllRead(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        _ = try await NotificationService(req.fengqiao).markAllRead(owner: p.id)
        return req.redirect(to: "/notifications")
    }

    struct DeliveryRow: Encodable {
        var id: String
        var shortId: String
        var channel: String
        var target: String
        var eventId: String?
        var state: String
        var stateName: String
        var attempts: Int
        var lastStatus: Int?
        var lastError: String?
        var next: String
        var deliveredAt: String
        var canRetry: Bool
    }
    struct StateOption: Encodable { var value: String; var label: String; var selected: Bool; var count: Int }
    struct DeliveryData: Encodable { var rows: [DeliveryRow]; var states: [StateOption]; var notice: String? }

    func deliveries(_ req: Request) async throws -> Response {
        try await renderDeliveries(req, notice: req.query[String.self, at: "retried"] == "1" ? Page.t(req)["deliv.retried"] : nil)
    }

    func renderDeliveries(_ req: Request, notice: String?) async throws -> Response {
        let t = Page.t(req)
        let state = req.query[String.self, at: "state"].flatMap(OutboxMessage.State.init(rawValue:))
        let outbox = NotificationOutbox(req.fengqiao)
        let counts = try await outbox.counts()
        let rows = try await outbox.messages(limit: 200, state: state).map { m in
            DeliveryRow(
                id: m.id.uuidString.lowercased(), shortId: String(m.id.uuidString.lowercased().prefix(8)),
                channel: (NotificationChannelKind(rawValue: m.channel)?.nameZH) ?? m.channel, target: m.targetURL,
                eventId: m.eventID?.uuidString.lowercased(), state: m.state.rawValue, stateName: t["deliv.\(m.state.rawValue)"] ?? m.state.rawValue,
                attempts: m.attempts, lastStatus: m.lastStatus, lastError: m.lastError,
                next: m.state == .pending ? Self.time(m.nextAttemptAt) : "", deliveredAt: Self.time(m.deliveredAt), canRetry: m.state != .delivered)
        }
        var states = [StateOption(value: "", label: t["deliv.all"]!, selected: state == nil, count: counts.values.reduce(0, +))]
        for s in [OutboxMessage.State.pending, .delivered, .failed] {
            states.append(StateOption(value: s.rawValue, label: t["deliv.\(s.rawValue)"]!, selected: state == s, count: counts[s] ?? 0))
        }
        return try await Page.render(req, "notification-deliveries", DeliveryData(rows: rows, states: states, notice: notice), title: t["deliv.title"]!)
    }

    func retry(_ req: Request) async throws -> Response {
        let id = try req.uuid("id", kind: "notification delivery")
        try await NotificationOutbox(req.fengqiao).retryNow(id, actor: req.actor)
        return req.redirect(to: "/admin/notification-deliveries?retried=1")
    }
}
